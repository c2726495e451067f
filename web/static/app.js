// Copy buttons: copy the text in data-copy and say so. htmx requests carry
// the session's CSRF token.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.copy");
  if (!b) return;
  var text = b.getAttribute("data-copy");
  var done = function () { var l = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = l; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    var t = document.createElement("textarea");
    t.value = text; t.setAttribute("readonly", ""); t.className = "offscreen";
    document.body.appendChild(t); t.select(); document.execCommand("copy"); document.body.removeChild(t); done();
  }
});
document.addEventListener("htmx:configRequest", function (e) {
  var m = document.querySelector('meta[name="csrf-token"]');
  if (m && m.content) e.detail.headers["X-CSRF-Token"] = m.content;
});
