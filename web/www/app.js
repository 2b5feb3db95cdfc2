// The page: settings, device choice, the training loop and the charts. The numbers come from
// kiln compiled to WebAssembly (pkg/, built by web/build.sh).
import init, { open_gpu, Session } from './pkg/kiln_web.js';

const PRESETS = {
  laptop: { label: 'Laptop GPU', batch_size: 100, hidden: [500, 100], train_images: 5000,
            test_images: 500, steps_no_bn: 400, steps_bn: 100, eval_every: 20, lr: 1e-3, seed: 0 },
  small: { label: 'Small (software GPU, CPU)', batch_size: 32, hidden: [64, 32], train_images: 1024,
           test_images: 128, steps_no_bn: 120, steps_bn: 60, eval_every: 10, lr: 1e-3, seed: 0 },
  article: { label: "The article's (needs a big GPU)", batch_size: 5000, hidden: [3500, 700],
             train_images: 50000, test_images: 10000, steps_no_bn: 400, steps_bn: 100,
             eval_every: 20, lr: 1e-3, seed: 0 },
};
const FIELDS = ['batch_size', 'train_images', 'test_images', 'steps_no_bn', 'steps_bn', 'eval_every', 'lr', 'seed'];
const COLORS = { 'no-bn': '#f0883e', bn: '#58a6ff' };
const SMOOTHING = 10;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

let stopRequested = false;

function readSettings() {
  const s = { hidden: [Number($('hidden0').value), Number($('hidden1').value)] };
  for (const f of FIELDS) s[f] = Number($(f).value);
  return s;
}

function showSettings(s) {
  $('hidden0').value = s.hidden[0];
  $('hidden1').value = s.hidden[1];
  for (const f of FIELDS) $(f).value = s[f];
}

// Settings from the URL (`?preset=small&batch_size=8&hidden=16,8&...`) over the preset's.
function initialSettings() {
  const preset = PRESETS[params.get('preset')] ? params.get('preset') : 'laptop';
  $('preset').value = preset;
  const s = structuredClone(PRESETS[preset]);
  delete s.label;
  for (const f of FIELDS) if (params.has(f)) s[f] = Number(params.get(f));
  if (params.has('hidden')) s.hidden = params.get('hidden').split(',').map(Number);
  return s;
}

// --- charts -------------------------------------------------------------------------------

function smooth(values) {
  return values.map((_, i) => {
    const w = values.slice(Math.max(0, i + 1 - SMOOTHING), i + 1);
    return w.reduce((a, b) => a + b, 0) / w.length;
  });
}

function drawChart(canvas, series, xMax) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 52, R = 14, T = 12, B = 30;
  ctx.clearRect(0, 0, W, H);
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const yMax = ys.length ? Math.max(...ys) * 1.05 : 2.5;
  const yMin = 0;
  const x = (v) => L + (W - L - R) * (v / Math.max(1, xMax));
  const y = (v) => T + (H - T - B) * (1 - (v - yMin) / (yMax - yMin || 1));
  ctx.font = '12px system-ui, sans-serif';
  ctx.strokeStyle = '#2a313b';
  ctx.fillStyle = '#8b95a3';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = yMin + (yMax - yMin) * i / 4;
    ctx.beginPath(); ctx.moveTo(L, y(v)); ctx.lineTo(W - R, y(v)); ctx.stroke();
    ctx.textAlign = 'right'; ctx.fillText(v.toFixed(2), L - 6, y(v) + 4);
  }
  for (let i = 0; i <= 5; i++) {
    const v = Math.round(xMax * i / 5);
    ctx.textAlign = 'center'; ctx.fillText(String(v), x(v), H - 10);
  }
  ctx.textAlign = 'right'; ctx.fillText('step', L - 6, H - 10);
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.color; ctx.globalAlpha = s.alpha ?? 1; ctx.lineWidth = s.width;
    ctx.beginPath();
    s.points.forEach(([px, py], i) => (i ? ctx.lineTo(x(px), y(py)) : ctx.moveTo(x(px), y(py))));
    ctx.stroke();
    if (s.dots) {
      ctx.fillStyle = s.color;
      for (const [px, py] of s.points) { ctx.beginPath(); ctx.arc(x(px), y(py), 3, 0, 7); ctx.fill(); }
    }
    ctx.globalAlpha = 1;
  }
}

function redraw(runs, settings) {
  const xMax = Math.max(settings.steps_no_bn, settings.steps_bn);
  const train = [], test = [];
  for (const [name, r] of Object.entries(runs)) {
    const color = COLORS[name] ?? '#aaa';
    train.push({ color, width: 1, alpha: 0.35, points: r.loss.map((l, i) => [i + 1, l]) });
    train.push({ color, width: 2.5, points: smooth(r.loss).map((l, i) => [i + 1, l]) });
    test.push({ color, width: 2, dots: true, points: r.evals.map((e) => [e.step, e.loss]) });
  }
  drawChart($('train-chart'), train, xMax);
  drawChart($('test-chart'), test, xMax);
}

// --- device and training ------------------------------------------------------------------

// The device to train on. `auto`: a hardware WebGPU adapter, else kiln's CPU kernels (a software
// adapter such as SwiftShader is slower than they are, and is skipped as natively); `gpu`:
// any WebGPU adapter. A fallback to the CPU is said on the page.
async function pickDevice(choice) {
  if (choice !== 'cpu') {
    const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    let why = !navigator.gpu ? 'this browser has no WebGPU'
      : !adapter ? 'the browser offers no WebGPU adapter' : null;
    if (!why && adapter.info.isFallbackAdapter && choice === 'auto') {
      why = `the only WebGPU adapter is a software one (${adapter.info.vendor} ${adapter.info.architecture}), slower than the CPU kernels`;
    }
    if (!why) {
      try {
        const summary = await open_gpu();
        return { device: 'gpu', name: describe(adapter.info) || summary };
      } catch (e) {
        why = `WebGPU did not open (${e.message ?? e})`;
      }
    }
    if (choice === 'gpu') throw new Error(why);
    notice(`${why}: training on kiln's CPU kernels, single-threaded in WebAssembly.`);
  }
  return { device: 'cpu', name: "CPU (kiln's CPU kernels in wasm)" };
}

// The adapter as the browser describes it (wgpu passes on only its often empty description).
function describe(info) {
  const words = [info.vendor, info.architecture, info.description].filter(Boolean);
  return words.length ? `${words.join(' ')} (WebGPU${info.isFallbackAdapter ? ', software' : ''})` : '';
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = false;
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

async function train(settings, choice) {
  const { device, name } = await pickDevice(choice);
  $('device-name').textContent = name;
  $('device-name').title = name;
  $('message').textContent = 'Generating the synthetic data…';
  await nextTask();
  const t0 = performance.now();
  const session = new Session(JSON.stringify(settings), device);
  const generated = (performance.now() - t0) / 1000;
  $('message').textContent = `${session.dataset()}, generated in ${generated.toFixed(1)} s. Training…`;
  const runs = {};
  for (const n of JSON.parse(session.runs())) runs[n] = { loss: [], evals: [], seconds: [] };
  const total = settings.steps_no_bn + settings.steps_bn;
  let done = 0, lastDraw = 0;
  for (;;) {
    if (stopRequested) break;
    const json = await session.step();
    if (json === null) break;
    const p = JSON.parse(json);
    const r = runs[p.name];
    r.loss.push(p.loss);
    r.seconds.push(p.seconds);
    if (p.eval) r.evals.push(p.eval);
    done++;
    const step = median(r.seconds.slice(-10));
    $('step-time').textContent = `${(step * 1000).toFixed(step < 0.1 ? 1 : 0)} ms`;
    $('ips').textContent = Math.round(Math.min(settings.batch_size, settings.train_images) / step).toLocaleString();
    $('progress').textContent = `${p.name} ${p.step} · ${Math.round(100 * done / total)}%`;
    if (p.eval || performance.now() - lastDraw > 100) {
      redraw(runs, settings);
      $('table').textContent = session.table();
      lastDraw = performance.now();
    }
    await nextTask();
  }
  redraw(runs, settings);
  $('table').textContent = session.table();
  $('message').textContent = `${session.dataset()}. ${stopRequested ? 'Stopped.' : 'Done.'}`;
  return { device, adapter: name, generate_seconds: generated, runs, table: session.table() };
}

// Posts what the run measured to the local test server (`?report=TAG`).
function report(result) {
  const tag = params.get('report');
  if (tag) return fetch(`/report/${encodeURIComponent(tag)}`, { method: 'POST', body: JSON.stringify(result) });
}

async function main() {
  for (const [key, p] of Object.entries(PRESETS)) $('preset').add(new Option(p.label, key));
  showSettings(initialSettings());
  $('preset').onchange = () => showSettings(PRESETS[$('preset').value]);
  if (params.has('device')) $('device').value = params.get('device');
  try {
    await init();
  } catch (e) {
    $('message').textContent = `Could not load kiln's WebAssembly: ${e}`;
    return report({ error: String(e) });
  }
  $('device-name').textContent = navigator.gpu ? 'WebGPU available' : 'no WebGPU';
  $('message').textContent = 'Ready: choose the settings and press Train.';
  const start = async () => {
    $('start').disabled = true; $('stop').disabled = false; stopRequested = false;
    try {
      const result = await train(readSettings(), $('device').value);
      await report(result);
    } catch (e) {
      $('message').textContent = `Error: ${e.message ?? e}`;
      await report({ error: String(e.message ?? e) });
    }
    $('start').disabled = false; $('stop').disabled = true;
  };
  $('start').onclick = start;
  $('stop').onclick = () => { stopRequested = true; };
  if (params.has('autostart')) start();
}

main();
