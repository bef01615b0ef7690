/* hiraga task apps like chat: the run is streamed (SSE over fetch) beside the form, with its steps,
   the model that answers and a stop button; the final result is the server's sanitised HTML and
   is brought into view. Progressive enhancement: without this script the form is a plain post. */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function setProgress(message) { byId("task-progress").textContent = message; }

  function showResult(html) {
    var target = byId("task-result");
    target.innerHTML = html;  // the server's own rendering (sanitised markdown)
    if (window.hiragaPortal) { window.hiragaPortal.enhance(target); }
    var section = target.querySelector("#result");
    if (section) { section.scrollIntoView({ block: "start" }); section.focus({ preventScroll: true }); }
  }

  function run(form, stop) {
    var controller = new AbortController();
    var streamBox = byId("task-stream"), streamText = byId("task-stream-text");
    var submit = form.querySelector("button[type=submit]");
    var stopped = false;
    streamText.textContent = "";
    byId("task-model").textContent = "";
    streamBox.hidden = false;
    byId("task-result").textContent = "";
    streamBox.scrollIntoView({ block: "nearest" });
    submit.disabled = true;
    stop.hidden = false;
    stop.focus();
    setProgress(form.dataset.starting || "実行しています…");
    stop.onclick = function () { stopped = true; controller.abort(); };
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "text/event-stream" }, signal: controller.signal
    }).then(function (response) {
      if (!response.ok || (response.headers.get("content-type") || "").indexOf("text/event-stream") !== 0) {
        form.dataset.plain = "1";  // bad input: let the server show the form with its errors
        form.submit();
        return null;
      }
      return window.hiragaPortal.readEvents(response, function (name, data) {
        if (name === "progress") { setProgress(data.step + "…"); }
        else if (name === "model") {
          byId("task-model").textContent = "回答しているモデル: " + data.name + (data.note ? "（" + data.note + "）" : "");
          setProgress("モデル「" + data.name + "」が回答しています…");
        }
        else if (name === "delta") { streamText.textContent += data.text; }
        else if (name === "done") {
          streamBox.hidden = true;
          setProgress(data.status === "ok" ? "完了しました。" : data.status === "stopped" ? "停止しました。" : "失敗しました。");
          showResult(data.html);
        }
      });
    }).catch(function () {
      if (stopped) {
        setProgress("停止しました。途中までの出力は実行履歴に残ります。");
        streamText.classList.remove("streaming");
      } else {
        setProgress("通信が切れました。もう一度実行してください。");
      }
    }).finally(function () {
      submit.disabled = false;
      stop.hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.js-task-form").forEach(function (form) {
      var stop = form.querySelector(".js-task-stop");
      form.addEventListener("submit", function (event) {
        if (form.dataset.plain || !window.fetch || !window.hiragaPortal || !stop) { return; }
        event.preventDefault();
        run(form, stop);
      });
    });
  });
})();
