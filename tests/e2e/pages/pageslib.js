// Helpers for the pages' browser tests: the translations as the pages read
// them, a sentence template as a pattern, Chromium with a locale, the
// axe-core audit and the check for clipped elements.
'use strict';

const fs = require('fs');
const path = require('path');
const L = require('../live/lib');

const WEB = path.join(__dirname, '..', '..', '..', 'assets', 'web');
const LANGS = ['en', 'zh-CN', 'zh-TW', 'ja', 'ko'];
const dicts = {};
for (const l of LANGS) dicts[l] = JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', l + '.json'), 'utf8'));

// The sentence of `key` in `lang` with its {placeholders} filled.
function tr(lang, key, vars) {
  return dicts[lang][key].replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] !== undefined ? String(vars[k]) : m));
}

// A pattern matching the sentence whatever numbers fill its placeholders.
function pattern(lang, key) {
  const parts = dicts[lang][key].split(/\{\w+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp('^' + parts.join('(\\d+)') + '$');
}

async function launch(args) {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: args.chromium || '/usr/bin/chromium', headless: true, timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-renderer-backgrounding', '--disable-background-timer-throttling'],
  });
}

// A page in a context of its own with the browser's locale (its languages)
// set; its console errors and exceptions go to `problems`.
async function newPage(browser, locale, viewport, problems, colorScheme) {
  const ctx = await browser.newContext({ locale, viewport: viewport || { width: 390, height: 844 }, colorScheme: colorScheme || 'dark' });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/401|Unauthorized/.test(m.text())) problems.push(locale + ': ' + m.text()); });
  page.on('pageerror', (e) => problems.push(locale + ': ' + String(e)));
  return page;
}

// axe-core on the page as it is: the serious and critical violations, described.
async function audit(page) {
  const { AxeBuilder } = require('@axe-core/playwright');
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
}

// Whatever is visible and clipped: text wider than its box (a button, a
// label, a heading...), a control past the viewport's right edge, or the
// page wider than the viewport.
function clipped(page) {
  return page.evaluate(() => {
    const out = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) out.push('the page is ' + document.documentElement.scrollWidth + ' px wide in ' + vw);
    const sel = 'button, select, input, label, legend, h1, h2, p, figcaption, th, .plot, .u-legend';
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || el.matches('.sr-only') || el.closest('[hidden]') || el.closest('.table-box') && !el.matches('th')) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'inline') continue;
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : el.className ? '.' + String(el.className).split(' ')[0] : '');
      if (el.scrollWidth > el.clientWidth + 1 && !el.matches('input')) out.push(name + ': ' + el.scrollWidth + ' px of text in ' + el.clientWidth);
      if (r.right > vw + 1 && !el.closest('.table-box')) out.push(name + ' ends at ' + Math.round(r.right) + ' px, past ' + vw);
    }
    return out;
  });
}

module.exports = { L, LANGS, dicts, tr, pattern, launch, newPage, audit, clipped };
