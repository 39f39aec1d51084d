// The Listok admin page: plain DOM over /api/admin, English and Russian, no inline script.
// Text from lists (titles) is only ever set with textContent.
"use strict";

const TEXT = {
  en: {
    heading: "Listok admin", signin: "Sign in", signout: "Sign out", tokenLabel: "Admin token",
    tokenHint: "Set LISTOK_ADMIN_TOKEN or run `listok admin token`.", server: "Server",
    jobs: "Jobs", noJobs: "No jobs yet.", job: "Job", progress: "Progress", status: "Status",
    started: "Started", lists: "Lists", search: "Search by title or id", live: "Live",
    deleted: "Deleted", all: "All", find: "Find", compactAll: "Compact all lists",
    title: "Title", id: "Id", items: "Items", document: "Document", history: "History",
    lastChange: "Last write", sockets: "Sockets", shares: "Shares", actions: "Actions",
    empty: "No lists.", prev: "Previous", next: "Next", compact: "Compact", delete: "Delete",
    restore: "Restore", untitled: "(untitled)", deletedAt: "deleted",
    confirmDelete: "Delete “{title}”? It can be restored for {days} days.",
    range: "{from}–{to} of {total}", none: "0 of 0",
    connections: "Connections", listsInMemory: "Lists in memory", commits: "Commits",
    commitP50: "Commit p50", commitP99: "Commit p99", model: "Suggestion model",
    retention: "Deleted lists kept", uptime: "Uptime", catalog: "Catalog",
    days: "{n} days", running: "running", done: "done", failed: "failed",
    badToken: "That token was not accepted.", compacted: "Compacted.", h: "h", min: "min", s: "s",
    roles: { owner: "owner", edit: "edit", view: "view" },
  },
  ru: {
    heading: "Листок: администрирование", signin: "Войти", signout: "Выйти",
    tokenLabel: "Токен администратора",
    tokenHint: "Задайте LISTOK_ADMIN_TOKEN или выполните `listok admin token`.",
    server: "Сервер", jobs: "Задачи", noJobs: "Задач пока нет.", job: "Задача",
    progress: "Ход", status: "Состояние", started: "Начата", lists: "Списки",
    search: "Поиск по названию или id", live: "Действующие", deleted: "Удалённые", all: "Все",
    find: "Найти", compactAll: "Сжать все списки", title: "Название", id: "Id",
    items: "Пункты", document: "Документ", history: "История", lastChange: "Последняя запись",
    sockets: "Сокеты", shares: "Ссылки", actions: "Действия", empty: "Списков нет.",
    prev: "Назад", next: "Дальше", compact: "Сжать", delete: "Удалить",
    restore: "Восстановить", untitled: "(без названия)", deletedAt: "удалён",
    confirmDelete: "Удалить «{title}»? Его можно будет восстановить в течение {days} дн.",
    range: "{from}–{to} из {total}", none: "0 из 0",
    connections: "Подключения", listsInMemory: "Списков в памяти", commits: "Записей в базу",
    commitP50: "Запись p50", commitP99: "Запись p99", model: "Модель подсказок",
    retention: "Удалённые хранятся", uptime: "Работает", catalog: "Каталог",
    days: "{n} дн.", running: "идёт", done: "готово", failed: "ошибка",
    badToken: "Токен не подошёл.", compacted: "Сжато.", h: "ч", min: "мин", s: "с",
    roles: { owner: "владелец", edit: "правка", view: "просмотр" },
  },
};

const PAGE = 50;
const view = { lang: "en", offset: 0, q: "", which: "live", retention: 30, timer: 0, running: 0 };

const $ = (id) => document.getElementById(id);
const t = (key, vars = {}) =>
  String(TEXT[view.lang][key] ?? TEXT.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k]);

function pickLanguage() {
  const saved = localStorage.getItem("listok-admin-lang");
  if (saved && TEXT[saved]) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
}

function applyLanguage() {
  document.documentElement.lang = view.lang;
  document.title = t("heading");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("button.lang")) {
    el.setAttribute("aria-pressed", String(el.dataset.lang === view.lang));
  }
}

function token() {
  return sessionStorage.getItem("listok-admin-token") || "";
}

class AuthFailed extends Error {}

async function api(method, path) {
  const response = await fetch(`/api/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${token()}` },
    cache: "no-store",
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) throw new AuthFailed(body.error || "unauthorized");
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function showError(message) {
  const el = $("error");
  el.textContent = message || "";
  el.hidden = !message;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString(view.lang, { dateStyle: "short", timeStyle: "short" }) : "—";
}

function duration(seconds) {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h} ${t("h")} ${m} ${t("min")}`;
  return m ? `${m} ${t("min")} ${s % 60} ${t("s")}` : `${s} ${t("s")}`;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function signedIn(yes) {
  $("login").hidden = yes;
  $("panel").hidden = !yes;
  $("signout").hidden = !yes;
  clearInterval(view.timer);
  if (yes) view.timer = setInterval(() => refreshState().catch(handle), 2000);
}

function handle(error) {
  if (error instanceof AuthFailed) {
    sessionStorage.removeItem("listok-admin-token");
    signedIn(false);
    showError(t("badToken"));
  } else {
    showError(error.message);
  }
}

function renderState(state) {
  view.retention = state.deleted_retention_days;
  const ms = (v) => (v == null ? "—" : `${v} ms`);
  const model = state.model ? String(state.model.model ?? "off") : "off";
  const rows = [
    ["connections", state.connections],
    ["listsInMemory", state.lists_in_memory],
    ["commits", state.commits],
    ["commitP50", ms(state.commit_ms.p50)],
    ["commitP99", ms(state.commit_ms.p99)],
    ["model", model],
    ["retention", t("days", { n: state.deleted_retention_days })],
    ["uptime", duration(state.uptime_s)],
  ];
  if (state.catalog) rows.push(["catalog", JSON.stringify(state.catalog)]);
  $("state").replaceChildren(
    ...rows.map(([key, value]) => el("div", {}, el("dt", { textContent: t(key) }), el("dd", { textContent: String(value) }))),
  );
  renderJobs(state.jobs);
}

function renderJobs(jobs) {
  $("no-jobs").hidden = jobs.length > 0;
  $("jobs").hidden = jobs.length === 0;
  $("jobs").tBodies[0].replaceChildren(
    ...jobs.map((job) =>
      el(
        "tr",
        {},
        el("td", { textContent: job.detail ? `${job.kind}: ${job.detail}` : job.kind }),
        el(
          "td",
          {},
          el("progress", { max: Math.max(job.total, 1), value: job.done }),
          ` ${job.done}/${job.total}`,
        ),
        el("td", { textContent: t(job.state) + (job.error ? `: ${job.error}` : "") }),
        el("td", { textContent: when(job.started_at) }),
      ),
    ),
  );
}

async function refreshState() {
  const state = await api("GET", "/state");
  const running = state.jobs.filter((job) => job.state === "running").length;
  renderState(state);
  // A job just ended (e.g. compaction): the sizes in the table changed.
  if (running < view.running) refreshLists().catch(handle);
  view.running = running;
}

function shareText(shares) {
  const roles = TEXT[view.lang].roles;
  return ["owner", "edit", "view"]
    .filter((role) => shares[role])
    .map((role) => `${roles[role]} ${shares[role]}`)
    .join(", ");
}

function actionButton(label, handler, danger = false) {
  return el("button", { type: "button", textContent: t(label), class: danger ? "danger" : "", on: { click: handler } });
}

function renderLists(page) {
  const body = $("lists").tBodies[0];
  body.replaceChildren(
    ...page.lists.map((list) => {
      const actions = el("td", { class: "actions" });
      if (list.deleted_at) {
        actions.append(actionButton("restore", () => act("POST", `/lists/${list.id}/restore`)));
      } else {
        actions.append(
          actionButton("compact", () => act("POST", `/lists/${list.id}/compact`)),
          actionButton(
            "delete",
            () => {
              const title = list.title || t("untitled");
              if (confirm(t("confirmDelete", { title, days: view.retention }))) {
                act("DELETE", `/lists/${list.id}`);
              }
            },
            true,
          ),
        );
      }
      const title = list.title || t("untitled");
      const row = el(
        "tr",
        { class: list.deleted_at ? "deleted" : "" },
        el("td", { textContent: list.deleted_at ? `${title} (${t("deletedAt")} ${when(list.deleted_at)})` : title }),
        el("td", { class: "id", textContent: list.id.slice(0, 8), title: list.id }),
        el("td", { class: "num", textContent: String(list.items) }),
        el("td", { class: "num", textContent: bytes(list.document_bytes) }),
        el("td", { class: "num", textContent: bytes(list.history_bytes) }),
        el("td", { class: "when", textContent: when(list.last_change) }),
        el("td", { class: "num", textContent: String(list.sockets) }),
        el("td", { textContent: shareText(list.shares) }),
        actions,
      );
      row.dataset.id = list.id;
      return row;
    }),
  );
  $("empty").hidden = page.lists.length > 0;
  $("range").textContent = page.total
    ? t("range", { from: page.offset + 1, to: page.offset + page.lists.length, total: page.total })
    : t("none");
  $("prev").disabled = page.offset === 0;
  $("next").disabled = page.offset + page.lists.length >= page.total;
}

async function refreshLists() {
  const params = new URLSearchParams({ offset: view.offset, limit: PAGE, state: view.which });
  if (view.q) params.set("q", view.q);
  renderLists(await api("GET", `/lists?${params}`));
}

async function act(method, path) {
  try {
    showError("");
    await api(method, path);
    await Promise.all([refreshLists(), refreshState()]);
  } catch (error) {
    handle(error);
  }
}

async function start() {
  try {
    showError("");
    await Promise.all([refreshState(), refreshLists()]);
    signedIn(true);
  } catch (error) {
    handle(error);
  }
}

function wire() {
  view.lang = pickLanguage();
  applyLanguage();
  for (const button of document.querySelectorAll("button.lang")) {
    button.addEventListener("click", () => {
      view.lang = button.dataset.lang;
      localStorage.setItem("listok-admin-lang", view.lang);
      applyLanguage();
      if (token()) start();
    });
  }
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("listok-admin-token", $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem("listok-admin-token");
    signedIn(false);
  });
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    view.q = $("q").value.trim();
    view.which = $("which").value;
    view.offset = 0;
    refreshLists().catch(handle);
  });
  $("which").addEventListener("change", () => $("filters").requestSubmit());
  $("prev").addEventListener("click", () => {
    view.offset = Math.max(0, view.offset - PAGE);
    refreshLists().catch(handle);
  });
  $("next").addEventListener("click", () => {
    view.offset += PAGE;
    refreshLists().catch(handle);
  });
  $("compact-all").addEventListener("click", () => act("POST", "/compact"));
  if (token()) start();
  else signedIn(false);
}

wire();
