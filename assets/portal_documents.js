/* Document uploads for Patient Portal: drag-and-drop, one XHR per file with its own progress bar.
 *
 * Files go straight to POST /api/documents (or /api/documents/<id>/versions) as the raw request
 * body, with the description in the X-Document-Meta header, and the session cookie (same origin).
 * Reflex state validates the form first and then calls window.portalDocs.upload({...}); when every
 * file has finished, the page's hidden "done" button is clicked so the state refreshes the list.
 */
(function () {
  if (window.portalDocs) return;

  var lastResult = { ok: 0, failed: 0 };

  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function stem(name) {
    var dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(0, dot) : name;
  }

  function showChosen(input) {
    var list = document.getElementById(input.getAttribute("data-names"));
    if (!list) return;
    var files = Array.prototype.slice.call(input.files || []);
    list.textContent = files.length
      ? files.map(function (f) { return f.name + " (" + formatSize(f.size) + ")"; }).join(", ")
      : "No file chosen yet";
  }

  function row(container, file) {
    var item = document.createElement("li");
    item.className = "portal-upload-item";
    item.style.cssText = "list-style:none;display:flex;flex-direction:column;gap:4px;padding:8px 0;" +
      "border-bottom:1px solid var(--gray-5);";
    var name = document.createElement("span");
    name.textContent = file.name + " (" + formatSize(file.size) + ")";
    name.style.fontWeight = "500";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.style.cssText = "width:100%;height:10px;accent-color:var(--accent-9);";
    bar.setAttribute("aria-label", "Upload progress of " + file.name);
    var status = document.createElement("span");
    status.className = "portal-upload-status";
    status.style.cssText = "font-size:14px;color:var(--gray-11);";
    status.textContent = "Waiting…";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    container.appendChild(item);
    return {
      item: item, bar: bar, status: status,
      /* ok: a full bar and "Uploaded". Refused (wrong type, too large, not permitted, connection lost):
       * the bar goes — its body may have been sent in full before the server said no — and a red
       * "Not uploaded" label with the reason takes its place. */
      done: function (ok, text) {
        item.setAttribute("data-outcome", ok ? "uploaded" : "refused");
        if (ok) {
          bar.value = 100;
          status.textContent = text;
          status.style.color = "var(--green-11)";
          return;
        }
        if (bar.parentNode) bar.parentNode.removeChild(bar);
        status.textContent = "";
        var label = document.createElement("strong");
        label.className = "portal-upload-failed";
        label.textContent = "Not uploaded: ";
        status.appendChild(label);
        status.appendChild(document.createTextNode(text));
        status.style.color = "var(--red-11)";
        item.style.borderLeft = "3px solid var(--red-9)";
        item.style.paddingLeft = "10px";
      },
    };
  }

  function send(endpoint, meta, file, ui) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", endpoint);
      xhr.setRequestHeader("X-Document-Meta", encodeURIComponent(JSON.stringify(meta)));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) {
          ui.bar.value = Math.round((e.loaded / e.total) * 100);
          ui.status.textContent = e.loaded >= e.total ? "Sent — the clinic's server is checking the file…"
            : "Uploading… " + ui.bar.value + "%";
        }
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201) {
          ui.done(true, "Uploaded");
          resolve(true);
        } else {
          ui.done(false, body.detail || "The upload failed (" + xhr.status + "). Please try again.");
          resolve(false);
        }
      };
      xhr.onerror = function () {
        ui.done(false, "The connection was lost while uploading. Nothing was saved — please try again.");
        resolve(false);
      };
      ui.status.textContent = "Uploading…";
      xhr.send(file);
    });
  }

  /* opts: endpoint, meta (without filename), inputId, listId, doneId, maxBytes, maxText, numberTitles */
  function upload(opts) {
    var input = document.getElementById(opts.inputId);
    var list = document.getElementById(opts.listId);
    var files = Array.prototype.slice.call((input && input.files) || []);
    list.innerHTML = "";
    lastResult = { ok: 0, failed: 0 };
    if (!files.length) {
      var none = row(list, { name: "No file chosen", size: 0 });
      none.done(false, "Choose or drop at least one file first.");
      lastResult.failed = 1;
      document.getElementById(opts.doneId).click();
      return;
    }
    var uis = files.map(function (file) { return row(list, file); });
    var chain = Promise.resolve();
    files.forEach(function (file, index) {
      var ui = uis[index];
      chain = chain.then(function () {
        if (file.size > opts.maxBytes) {
          ui.done(false, "This file is larger than " + opts.maxText + ", the most that can be uploaded.");
          return false;
        }
        var meta = Object.assign({}, opts.meta, { filename: file.name });
        if (opts.numberTitles) {
          var title = (opts.meta.title || "").trim();
          meta.title = title ? (files.length > 1 ? title + " (" + (index + 1) + " of " + files.length + ")" : title)
            : stem(file.name);
        }
        return send(opts.endpoint, meta, file, ui);
      }).then(function (ok) {
        if (ok) lastResult.ok += 1; else lastResult.failed += 1;
      });
    });
    chain.then(function () {
      if (lastResult.ok && input) { input.value = ""; showChosen(input); }
      var done = document.getElementById(opts.doneId);
      if (done) done.click();
    });
  }

  document.addEventListener("change", function (e) {
    if (e.target && e.target.matches && e.target.matches("input[type=file][data-names]")) showChosen(e.target);
  });
  document.addEventListener("dragover", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) { e.preventDefault(); zone.setAttribute("data-dragging", "true"); }
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) zone.removeAttribute("data-dragging");
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (!zone) return;
    e.preventDefault();
    zone.removeAttribute("data-dragging");
    var input = document.getElementById(zone.getAttribute("data-dropzone"));
    if (input && e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      showChosen(input);
    }
  });

  window.portalDocs = {
    upload: upload,
    result: function () { return lastResult; },
  };
})();
