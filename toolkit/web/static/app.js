// toolkit: drag and drop with a progress bar on the upload form. Without this script the
// form still works (plain POST); served from the package, no CDN.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-upload]")) {
    const drop = form.querySelector("[data-drop]");
    const bar = form.querySelector("[data-progress]");
    const dropped = [];
    const note = document.createElement("p");
    note.className = "hint";
    drop.appendChild(note);
    const show = () => { note.textContent = dropped.length ? `Đã chọn ${dropped.length} tệp kéo thả.` : ""; };
    for (const kind of ["dragenter", "dragover"]) {
      drop.addEventListener(kind, (e) => { e.preventDefault(); drop.classList.add("over"); });
    }
    for (const kind of ["dragleave", "drop"]) {
      drop.addEventListener(kind, () => drop.classList.remove("over"));
    }
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      const items = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry());
      if (items.some((x) => x)) {
        for (const entry of items) { if (entry) await collect(entry, dropped); }
      } else {
        dropped.push(...e.dataTransfer.files);
      }
      show();
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const data = new FormData(form);
      for (const file of dropped) data.append("files", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", form.querySelector("[name=csrf]").value);
      bar.hidden = false;
      xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) bar.value = 100 * ev.loaded / ev.total; };
      xhr.onload = () => {
        if (xhr.status < 400) { window.location = xhr.responseURL; return; }
        document.open(); document.write(xhr.responseText); document.close();
      };
      xhr.onerror = () => { note.textContent = "Không gửi được: kiểm tra toolkit serve còn chạy."; };
      form.querySelector("button[type=submit]").disabled = true;
      xhr.send(data);
    });
  }
});

// every file under a dropped folder
function collect(entry, out) {
  return new Promise((resolve) => {
    if (entry.isFile) { entry.file((f) => { out.push(f); resolve(); }, () => resolve()); return; }
    const reader = entry.createReader();
    const all = [];
    const next = () => reader.readEntries(async (batch) => {
      if (!batch.length) { for (const e of all) await collect(e, out); resolve(); return; }
      all.push(...batch); next();
    }, () => resolve());
    next();
  });
}

// a chosen file is named beside its button (the browser's own text may not be Vietnamese)
document.addEventListener("change", (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  const out = input.form && input.form.querySelector("[data-chosen]");
  if (!out) return;
  const n = [...input.form.querySelectorAll("input[type=file]")].reduce((s, i) => s + i.files.length, 0);
  out.textContent = n === 0 ? "" : n === 1 ? `Đã chọn: ${input.files[0] ? input.files[0].name : "1 tệp"}` : `Đã chọn ${n} tệp`;
});
