#!/usr/bin/env node
// Screenshots of the Temporal Web UI telling a run's story through Temporal's user metadata: the
// objective as the workflow's summary, its setup as details, the run's current details, and every
// activity's summary in the timeline. Runs the offline demo (`infty demo`) against a fresh dev server
// with the UI and a worker of its own, then opens the run in headless Chromium and writes
//   docs/images/webui-run.png       the User Metadata tab: summary, details, current details
//   docs/images/webui-timeline.png  the timeline, oldest first: one bar per activity, labelled with its summary
//   docs/images/webui-history.png   the compact event history: activity type and summary per row
// Needs `npm run build` first and a Chromium (CHROMIUM_PATH, default /usr/bin/chromium; on Debian:
// apt-get install chromium). Usage: npm run screenshot:webui [-- --out DIR]
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const outArg = process.argv.indexOf('--out');
const outDir = resolve(outArg > 0 ? process.argv[outArg + 1] : join(root, 'docs', 'images'));
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const VIEWPORT = { width: 1400, height: 1000 };
const OBJECTIVE_START = 'Write a haiku about durable execution';

function fail(message) {
  process.stderr.write(`webui-screenshot: ${message}\n`);
  process.exit(1);
}

/** Starts `infty <args>`; `result` resolves with its output once `ready` matches, or when it exits 0 (no `ready`). */
function infty(args, env, ready) {
  const child = spawn(process.execPath, [join(root, 'bin', 'infty.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const result = new Promise((resolvePromise, reject) => {
    const onData = (chunk) => {
      output += chunk;
      if (ready?.test(output)) resolvePromise({ child, output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!ready && code === 0) resolvePromise({ child, output });
      else reject(new Error(`infty ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
  return { child, result };
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Waits until `text` shows in the page or one of its frames (the UI renders markdown in iframes). */
async function waitForText(page, text, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is wanted (textContent would also match hidden nodes, scripts and styles)
      const body = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      if (body.includes(text)) return;
    }
    if (Date.now() > end) throw new Error(`"${text}" did not show on ${page.url()} within ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}

/** Scrolls the section headed `title` to the top of the page. */
async function scrollToHeading(page, title) {
  await page.evaluate((t) => {
    const heading = [...document.querySelectorAll('h1, h2, h3')].find((e) => e.textContent.trim().startsWith(t));
    heading?.scrollIntoView({ block: 'start' });
  }, title);
  await page.mouse.move(0, 0); // no hover tooltip in the picture
  await page.waitForTimeout(1_000);
}

async function main() {
  for (const file of ['dist/src/server.js', 'dist/src/cli.js', 'dist/workflow-bundle.js']) {
    if (!existsSync(join(root, file))) fail(`${file} is missing: run \`npm run build\` first`);
  }
  if (!existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath} (set CHROMIUM_PATH, or on Debian: apt-get install chromium)`);
  const { chromium } = require('playwright-core');
  const { freePort, startDevServer } = require(join(root, 'dist', 'src', 'server.js'));

  const home = mkdtempSync(join(tmpdir(), 'infty-webui-'));
  const port = await freePort();
  const uiPort = await freePort();
  const server = await startDevServer({ port, uiPort });
  let worker;
  let browser;
  try {
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default', INFTY_HOME: home, INFTY_TASK_QUEUE: 'infty' };
    delete env.INFTY_RUNS_ROOT;
    // A worker of its own (the demo then starts none), so the ended run still answers the workflow
    // metadata query the UI sends for its current details.
    const w = infty(['worker'], env, /polling task queue/);
    worker = w.child;
    await w.result;
    process.stdout.write(`dev server ${server.address}, worker up; running the demo…\n`);
    const { output } = await infty(['demo'], env).result;
    const runId = /run (demo-\S+) started/.exec(output)?.[1];
    if (!runId) throw new Error(`no run id in the demo's output:\n${output}`);
    const runUrl = `${server.uiUrl}/namespaces/default/workflows/${runId}`;
    process.stdout.write(`demo run ${runId} delivered; opening ${runUrl}\n`);

    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    mkdirSync(outDir, { recursive: true });

    // Summary, details and current details.
    await page.goto(`${runUrl}`, { waitUntil: 'networkidle' });
    await waitForText(page, OBJECTIVE_START);
    // More room for the page: the navigation collapsed (a button without a name; kept when missing).
    await page
      .locator('nav button, aside button')
      .first()
      .click({ timeout: 3_000 })
      .catch(() => undefined);
    await page.getByText('User Metadata').first().click();
    await waitForText(page, 'Recent events');
    await page.waitForTimeout(1_000);
    await page.screenshot({ path: join(outDir, 'webui-run.png') });

    // The timeline, oldest first: each activity labelled with its summary.
    await page.getByText('Timeline').first().click();
    await waitForText(page, 'solver · shell:');
    const order = page.getByRole('button', { name: /^(Descending|Ascending)$/ }).first();
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText(), the button's rendered label, not the DOM property
    if ((await order.innerText()).trim() === 'Descending') await order.click(); // the UI keeps this choice for the history too
    await scrollToHeading(page, 'Timeline');
    await page.screenshot({ path: join(outDir, 'webui-timeline.png') });

    // The event history, compact: one row per activity, its type and its summary.
    await page.getByText('Event History').first().click();
    await page.getByText('Compact').first().click();
    await waitForText(page, 'solver · shell:');
    await scrollToHeading(page, 'Event History');
    await page.screenshot({ path: join(outDir, 'webui-history.png') });
    process.stdout.write(`wrote webui-run.png, webui-timeline.png and webui-history.png to ${outDir}\n`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stop(worker);
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err?.stack ? err.stack : String(err)));
