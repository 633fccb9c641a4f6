"""A newsroom's article page, played by Vigie itself: the demo at /demo/.

The views here are the newsroom's server. They hold the demo site's API key and talk to
Vigie only over its public HTTP API, as any news site would; the browser never sees the key.
"""
