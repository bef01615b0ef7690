/* hiraga portal: streams chat replies (SSE over fetch) into the page, with stop, regenerate,
   edit-and-resend and copy buttons. Progressive enhancement: without this script every form
   still works as a plain post. Model text is shown with textContent while it streams; the final
   answer is the server's sanitised HTML. */
(function () {
  "use strict";

  var i18n = document.getElementById("i18n");
  var text = function (key, fallback) { return (i18n && i18n.dataset[key]) || fallback; };
  var live = document.getElementById("live-status");
  var announce = function (message) { if (live) { live.textContent = message; } };
  var controller = null;

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function showError(message) {
    var box = document.getElementById("stream-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "stream-error";
      box.className = "message message--error";
      box.setAttribute("role", "alert");
      var composer = document.getElementById("composer");
      composer.parentNode.insertBefore(box, composer);
    }
    box.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = "⚠ ";
    p.appendChild(strong);
    p.appendChild(document.createTextNode(message));
    box.appendChild(p);
  }

  function clearError() {
    var box = document.getElementById("stream-error");
    if (box) { box.remove(); }
  }

  function newItem(role, heading) {
    var li = document.createElement("li");
    li.className = "msg msg--" + role;
    var h = document.createElement("h3");
    h.className = "msg__who";
    h.textContent = heading;
    li.appendChild(h);
    document.getElementById("messages").appendChild(li);
    return li;
  }

  function busy(on) {
    var send = document.getElementById("send-button");
    var stop = document.getElementById("stop-button");
    if (send) { send.disabled = on; }
    if (stop) { stop.hidden = !on; if (on) { stop.focus(); } }
  }

  /* After a reply: the server's own rendering of the messages (feedback forms included). */
  function refreshMessages(focusLatest) {
    return fetch(window.location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["messages", "regenerate-form"].forEach(function (id) {
          var now = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (now && next) { now.replaceWith(document.importNode(next, true)); }
          else if (!now && next) { document.getElementById("messages").after(document.importNode(next, true)); }
        });
        enhance(document);
        var latest = document.querySelector("#messages > li:last-child .msg__who");
        if (focusLatest && latest) { latest.setAttribute("tabindex", "-1"); latest.focus(); }
      });
  }

  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder("utf-8");
    var buffer = "";
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) { return; }
        buffer += decoder.decode(step.value, { stream: true });
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          var raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          var name = "message", data = "";
          raw.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) { name = line.slice(7); }
            else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
          });
          if (data) { onEvent(name, JSON.parse(data)); }
        }
        return pump();
      });
    }
    return pump();
  }

  function streamReply(form) {
    var data = new FormData(form);
    var question = data.get("content");
    var isSend = form.id === "composer";
    if (isSend && question !== null && !String(question).trim()) { return; }
    clearError();
    if (!isSend) {  // regenerate / edit: the server drops what follows; show it gone at once
      var messages = document.querySelectorAll("#messages > li");
      var own = form.closest("li");
      var cut = false;
      messages.forEach(function (li) {
        if (cut) { li.remove(); }
        if (li === own) { cut = true; }
      });
      if (!own) { var last = document.querySelector("#messages > li:last-child.msg--assistant"); if (last) { last.remove(); } }
    }
    if (isSend) {
      var mine = newItem("user", text("you", "あなた"));
      var body = document.createElement("div");
      body.className = "msg__text";
      body.textContent = String(question);
      mine.appendChild(body);
    }
    var item = newItem("assistant", text("assistant", "アシスタント"));
    var who = document.createElement("p");
    who.className = "model-name";
    item.appendChild(who);
    var answer = document.createElement("div");
    answer.className = "msg__text streaming";
    answer.setAttribute("aria-busy", "true");
    item.appendChild(answer);
    controller = new AbortController();
    busy(true);
    announce(text("generating", "回答を生成しています…"));
    var started = performance.now();
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "text/event-stream", "X-CSRF-Token": csrfToken(form) },
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (body) {
          item.remove();
          if (isSend && mine) { mine.remove(); }
          showError((body.error && body.error.message) || response.statusText);
        });
      }
      if (isSend) { form.reset(); }
      return readEvents(response, function (name, payload) {
        if (name === "model") {
          who.textContent = text("model", "回答したモデル") + ": " + payload.name + (payload.note ? "（" + payload.note + "）" : "");
        } else if (name === "delta") {
          if (!answer.dataset.first) {
            answer.dataset.first = String(performance.now() - started);
            document.documentElement.dataset.firstTokenMs = answer.dataset.first;
          }
          answer.textContent += payload.text;
        } else if (name === "done") {
          answer.removeAttribute("aria-busy");
          announce(text("done", "回答が届きました。"));
        }
      }).then(function () { return refreshMessages(true); });
    }).catch(function (error) {
      if (error && error.name === "AbortError") {  // stopped: the server keeps the partial answer
        setTimeout(function () { refreshMessages(true); }, 600);
        return;
      }
      showError(String(error && error.message || error));
    }).finally(function () {
      busy(false);
      controller = null;
    });
  }

  function copyButton(label, getText) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--quiet button--small copy-code";
    button.textContent = label;
    button.addEventListener("click", function () {
      if (!navigator.clipboard) { return; }
      navigator.clipboard.writeText(getText()).then(function () {
        button.textContent = text("copied", "コピーしました");
        announce(text("copied", "コピーしました"));
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
    return button;
  }

  function enhance(root) {
    root.querySelectorAll(".markdown pre").forEach(function (pre) {
      if (pre.dataset.enhanced) { return; }
      pre.dataset.enhanced = "1";
      var code = pre.querySelector("code") || pre;
      pre.before(copyButton(text("copy", "コピー"), function () { return code.textContent; }));
    });
    root.querySelectorAll(".js-copy").forEach(function (button) {
      if (button.dataset.enhanced) { return; }
      button.dataset.enhanced = "1";
      button.hidden = false;
      var target = document.getElementById(button.dataset.copyTarget);
      button.addEventListener("click", function () {
        var body = target && target.querySelector(".answer");
        if (body && navigator.clipboard) { navigator.clipboard.writeText(body.innerText); announce(text("copied", "コピーしました")); }
      });
    });
    root.querySelectorAll("form.js-reply-form").forEach(function (form) {
      if (form.dataset.enhanced) { return; }
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        if (!window.fetch || !window.TextDecoder || controller) { return; }
        event.preventDefault();
        streamReply(form);
      });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.enhanced) { return; }
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  window.hiragaPortal = { readEvents: readEvents, enhance: enhance };  // shared with tasks.js

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    var stop = document.getElementById("stop-button");
    if (stop) { stop.addEventListener("click", function () { if (controller) { controller.abort(); } }); }
    var input = document.getElementById("composer-input");
    if (input) {
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          document.getElementById("composer").requestSubmit();
        }
      });
    }
  });
})();
