"""Vigie's comment classifier: pure Python, numpy and scikit-learn (no Django, no ORM).

    from moderation.classifier import load_model
    model = load_model()            # the shipped default, cached per process
    [s] = model.score(["Espèce de c o n n a r d"])
    s.toxicity, s.spam, s.language, s.explanation["toxicity"]
"""

from .model import DEFAULT_MODEL_PATH, Model, ModelError, Scores, load_model

__all__ = ["DEFAULT_MODEL_PATH", "Model", "ModelError", "Scores", "load_model"]
