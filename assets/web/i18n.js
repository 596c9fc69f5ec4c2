// The pages' languages (the audience page, the login page, the console): one
// JSON file per language under /i18n/, English the reference. The language is
// the one the viewer picked on the page (kept in localStorage), else the
// first of the browser's languages the pages speak, else the screening's
// default (--page-lang, in /screening.json), else English. Elements carry
// their key: data-i18n (the text), data-i18n-placeholder, data-i18n-aria-label,
// data-i18n-title; <html data-i18n-doc="KEY"> the document's title.
'use strict';

const I18N = (() => {
  const KEY = 'danmaku.lang';
  // each language named in itself, so anyone finds their own
  const NAMES = { en: 'English', 'zh-CN': '简体中文', 'zh-TW': '繁體中文', ja: '日本語', ko: '한국어' };
  const listeners = [];
  let en = {};
  let dict = {};
  let lang = 'en';
  let screening = { title: '', film: '', lang: 'en', languages: ['en'], caps: { code_points: 100, graphemes: 60 } };

  async function fetchJson(url) {
    const r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok) throw new Error(url + ': ' + r.status);
    return r.json();
  }

  // The page's language for a browser language tag, or undefined.
  function match(tag, langs) {
    const t = String(tag).toLowerCase();
    const exact = langs.find((l) => l.toLowerCase() === t);
    if (exact) return exact;
    if (t === 'zh' || t.startsWith('zh-')) {
      const traditional = /^zh-(hant|tw|hk|mo)\b/.test(t);
      return langs.find((l) => l === (traditional ? 'zh-TW' : 'zh-CN'));
    }
    const primary = t.split('-')[0];
    return langs.find((l) => l.toLowerCase().split('-')[0] === primary);
  }

  function choose() {
    const langs = screening.languages;
    let kept = null;
    try { kept = localStorage.getItem(KEY); } catch (e) { /* storage off: nothing kept */ }
    if (kept && langs.includes(kept)) return kept;
    for (const tag of navigator.languages || [navigator.language]) {
      const m = match(tag, langs);
      if (m) return m;
    }
    return langs.includes(screening.lang) ? screening.lang : 'en';
  }

  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(dict, key) ? dict[key]
      : Object.prototype.hasOwnProperty.call(en, key) ? en[key] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
    return s;
  }

  function apply(root) {
    const r = root || document;
    if (!Object.keys(en).length) return;   // no translations at all: the markup's English stays
    for (const el of r.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const attr of ['placeholder', 'aria-label', 'title']) {
      for (const el of r.querySelectorAll('[data-i18n-' + attr + ']')) el.setAttribute(attr, t(el.getAttribute('data-i18n-' + attr)));
    }
    const doc = document.documentElement.dataset.i18nDoc;
    if (doc) document.title = t(doc);
  }

  async function load(l) {
    dict = l === 'en' ? en : await fetchJson('/i18n/' + l + '.json');
    lang = l;
    document.documentElement.lang = l;
    apply();
    const sel = document.getElementById('lang');
    if (sel) sel.value = l;
    for (const f of listeners) f(l);
  }

  // The viewer's pick: shown at once and kept for the next visit.
  async function set(l) {
    if (!screening.languages.includes(l)) return;
    try { localStorage.setItem(KEY, l); } catch (e) { /* storage off: this visit only */ }
    await load(l);
  }

  function switcher() {
    const sel = document.getElementById('lang');
    if (!sel) return;
    sel.textContent = '';
    for (const l of screening.languages) {
      const o = document.createElement('option');
      o.value = l;
      o.lang = l;
      o.textContent = NAMES[l] || l;
      sel.appendChild(o);
    }
    sel.value = lang;
    sel.addEventListener('change', () => { set(sel.value); });
  }

  // A server error as a sentence in the page's language, looked up from its
  // code (docs/protocol.md, "Error codes"); `film` and `s`: the film an
  // intermission waits for and about how long.
  function error(m, intermission) {
    if (m.code === 'rate_limited' && m.retry_ms > 0) return t('error.rate_limited.wait', { s: Math.ceil(m.retry_ms / 1000) });
    if (m.code === 'slow_mode' && m.every_s > 0) return t('error.slow_mode.every', { s: m.every_s });
    if (m.code === 'intermission' && intermission && intermission.film) {
      return intermission.s > 0 ? t('error.intermission.film_in', intermission) : t('error.intermission.film', intermission);
    }
    return Object.prototype.hasOwnProperty.call(en, 'error.' + m.code) ? t('error.' + m.code) : t('error.unknown', { code: m.code });
  }

  const ready = (async () => {
    try { Object.assign(screening, await fetchJson('/screening.json')); } catch (e) { /* an older server: English */ }
    try { en = await fetchJson('/i18n/en.json'); } catch (e) { /* the markup's own English stays */ }
    try { await load(choose()); } catch (e) { await load('en').catch(() => {}); }
    switcher();
    return screening;
  })();

  return {
    ready, t, error, set, apply,
    onChange: (f) => listeners.push(f),
    get lang() { return lang; },
    get screening() { return screening; },
  };
})();
