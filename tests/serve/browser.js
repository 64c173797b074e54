// browser.js - what a person sees of `attn serve`, in headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core): the runs list, a
// run, a compare, and a flip's drill-down, reached by clicking links as a
// person would. Asserts on visible text; screenshots go to OUT_DIR.
// usage: node browser.js URL RUN_A RUN_B OUT_DIR
const path = require('path');
const { chromium } = require(path.join(process.env.NPM_DIR, 'node_modules', 'playwright-core'));
const [url, runA, runB, out] = process.argv.slice(2);
let n = 0, failed = 0;
function ok(cond, what) { n++; if (cond) console.log(`ok ${n} - ${what}`); else { failed++; console.log(`not ok ${n} - ${what}`); } }

(async () => {
  // A fresh profile per run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(`${out}/profile`, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1300, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const external = [];
  page.on('request', r => { if (!r.url().startsWith(url)) external.push(r.url()); });
  try {
    await page.goto(url + '/', { timeout: 20000 });
    const list = await page.innerText('body');
    ok(list.includes('Runs') && list.includes(runA) && list.includes(runB), 'runs list shows both runs');
    ok(/MRR 0\.\d{3}, hit@1 0\.\d{3}/.test(list), 'runs list shows headline MRR and hit@1');
    await page.screenshot({ path: `${out}/runs.png`, fullPage: true });

    await page.click(`a:text("${runB}")`);
    await page.waitForSelector('h1');
    const run = await page.innerText('body');
    ok(run.includes(`Run ${runB}`) && run.includes('Metadata') && run.includes('cohort_hash'), 'run page: metadata panel');
    ok(run.includes('MRR with 95% interval') && await page.locator('svg rect').count() > 0, 'run page: interval chart drawn as SVG');
    ok(/Per-PR \(page 1 of \d+/.test(run), 'run page: paginated per-PR table');
    await page.screenshot({ path: `${out}/run.png`, fullPage: true });

    await page.goto(`${url}/compare?run_a=${runA}&run_b=${runB}`);
    const cmp = await page.innerText('body');
    ok(cmp.includes('Summary deltas') && /[+-]0\.\d{3} \[-?0\.\d{3}, -?0\.\d{3}\]/.test(cmp), 'compare: deltas with intervals');
    ok(cmp.includes('Top-1 score histograms') && cmp.includes('Flips at hit@1'), 'compare: histograms and flips');
    await page.click('a:text("largest regressions")');
    ok((await page.innerText('body')).includes('Per-PR deltas'), 'compare: the per-PR table sorts by regression');
    await page.screenshot({ path: `${out}/compare.png`, fullPage: false });

    const flip = page.locator('a.flip').first();
    const label = (await flip.innerText()).trim();
    await flip.click();
    await page.waitForSelector('h1');
    const pr = await page.innerText('body');
    ok(pr.includes(`PR ${label}`) && pr.includes('Snapshot at the cutoff') && pr.includes('leak_risk'), `flip ${label}: snapshot with leak_risk`);
    ok(pr.includes(`Routes of ${runA}`) && pr.includes(`Routes of ${runB}`) && pr.includes('Truth'), `flip ${label}: both runs' routes and the truth`);
    await page.screenshot({ path: `${out}/flip.png`, fullPage: false });
    ok(external.length === 0, 'nothing fetched from another host' + (external.length ? ': ' + external[0] : ''));
  } catch (e) {
    ok(false, 'browser session: ' + e.message.split('\n')[0]);
  }
  await browser.close();
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
})();
