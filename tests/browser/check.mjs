// Opens every .html page under a report directory in headless Chromium
// from file:// with the network offline (the pages carry no scripts; the Rust
// test checks that), and fails when
// any page requests something that is not a local file, fails to load, or
// is wider than the 1280 px viewport. Saves screenshots of index.html and
// the first team page. Usage: node check.mjs REPORT_DIR SHOTS_DIR
import { chromium } from 'playwright-core';
import { readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, shots] = process.argv.slice(2).map((p) => resolve(p));
mkdirSync(shots, { recursive: true });

function pages(d) {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? pages(p) : n.endsWith('.html') ? [p] : [];
  });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: true, offline: true });
const problems = [];
const all = pages(dir).sort();
const firstTeam = all.find((p) => p.includes('/teams/'));
for (const file of all) {
  const page = await context.newPage();
  page.on('request', (r) => { if (!r.url().startsWith('file://')) problems.push(`${file}: requested ${r.url()}`); });
  page.on('requestfailed', (r) => problems.push(`${file}: failed to load ${r.url()}`));
  const resp = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  if (!resp || !resp.ok()) problems.push(`${file}: did not load`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 0);
  if (width > 1290) problems.push(`${file}: ${width} px wide, wider than the 1280 px window`);
  if (file === join(dir, 'index.html')) await page.screenshot({ path: join(shots, 'index.png'), fullPage: true });
  if (file === firstTeam) await page.screenshot({ path: join(shots, 'team.png'), fullPage: true });
  await page.close();
}
await browser.close();
for (const p of problems) console.error(p);
console.log(`${all.length} pages checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
