/* The desk's keyboard on a comment's page: j / k next / previous in the queue, a approve,
   r reject with the moderator's last reason, ? the help. A static file: no inline script
   (the admin is served with a Content-Security-Policy). */
(function () {
  "use strict";
  var desk = document.querySelector(".vigie-workbench");
  if (!desk) { return; }
  var help = document.getElementById("vigie-shortcuts");
  var helpButton = document.querySelector(".vigie-help-button");

  function toggleHelp() {
    if (!help) { return; }
    help.hidden = !help.hidden;
    if (helpButton) { helpButton.setAttribute("aria-expanded", help.hidden ? "false" : "true"); }
  }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function go(url) { if (url) { window.location.assign(url); } }

  function click(selector) {
    var button = document.querySelector(selector);
    if (button) { button.click(); return true; }
    return false;
  }

  if (helpButton) { helpButton.addEventListener("click", toggleHelp); }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var reason = desk.dataset.lastReason;
    switch (event.key) {
      case "j": go(desk.dataset.nextUrl); break;
      case "k": go(desk.dataset.previousUrl); break;
      case "a": click("button.vigie-approve"); break;
      case "r":
        if (!(reason && click('button.vigie-reject[value="' + reason + '"]'))) {
          var first = document.querySelector("button.vigie-reject");
          if (first) { first.focus(); }
        }
        break;
      case "?": toggleHelp(); break;
      case "Escape": if (help && !help.hidden) { toggleHelp(); } break;
      default: return;
    }
    event.preventDefault();
  });
  desk.dataset.keyboard = "on"; /* tests wait for it */
}());
