/* The play page: a small network trains live, with the chain rule one click away.

   The training step is not written here: the page puts together the JavaScript that
   `autograd-lite export` writes (visualize/play_code.py cuts it into pieces per layer) and
   runs its forward(), backward() and sgd_step(). This script feeds it samples, adds up the
   gradients of a batch in the engine's order, and draws. The random numbers are Python's
   own (Mersenne Twister), so a seed gives the points, the first weights and the batches
   that nn.data, MLP(seed=...) and fit(seed=...) give in Python. */
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("page-data").textContent);
  const byId = (id) => document.getElementById(id);
  const LIMITS = DATA.limits;

  // --- Python's random module: MT19937, random(), gauss(), uniform(), shuffle() -----------

  class PyRandom {
    constructor(seed) {
      this.mt = new Uint32Array(624);
      this.mti = 625;
      this.gaussNext = null;
      this.initByArray(seed);
    }

    initGenrand(s) {
      const mt = this.mt;
      mt[0] = s >>> 0;
      for (let i = 1; i < 624; i++) {
        const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
        mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
      }
      this.mti = 624;
    }

    // random.Random(seed) for a whole number 0 <= seed < 2**53: its 32-bit words, low first
    initByArray(seed) {
      const key = [seed % 4294967296];
      if (seed >= 4294967296) key.push(Math.floor(seed / 4294967296));
      const mt = this.mt;
      this.initGenrand(19650218);
      let i = 1;
      let j = 0;
      for (let k = Math.max(624, key.length); k > 0; k--) {
        const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
        mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
        i++;
        j++;
        if (i >= 624) { mt[0] = mt[623]; i = 1; }
        if (j >= key.length) j = 0;
      }
      for (let k = 623; k > 0; k--) {
        const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
        mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
        i++;
        if (i >= 624) { mt[0] = mt[623]; i = 1; }
      }
      mt[0] = 0x80000000;
    }

    uint32() {
      const mt = this.mt;
      if (this.mti >= 624) {
        let kk = 0;
        const twist = (a, b, c) => {
          const y = (mt[a] & 0x80000000) | (mt[b] & 0x7fffffff);
          return (mt[c] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
        };
        for (; kk < 624 - 397; kk++) mt[kk] = twist(kk, kk + 1, kk + 397);
        for (; kk < 623; kk++) mt[kk] = twist(kk, kk + 1, kk + 397 - 624);
        mt[623] = twist(623, 0, 396);
        this.mti = 0;
      }
      let y = mt[this.mti++];
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y >>> 0;
    }

    random() {
      const a = this.uint32() >>> 5;
      const b = this.uint32() >>> 6;
      return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    uniform(a, b) {
      return a + (b - a) * this.random();
    }

    gauss(mu, sigma) {
      let z = this.gaussNext;
      this.gaussNext = null;
      if (z === null) {
        const x2pi = this.random() * (2.0 * Math.PI);
        const g2rad = Math.sqrt(-2.0 * Math.log(1.0 - this.random()));
        z = Math.cos(x2pi) * g2rad;
        this.gaussNext = Math.sin(x2pi) * g2rad;
      }
      return mu + z * sigma;
    }

    below(n) { // _randbelow_with_getrandbits
      const k = 32 - Math.clz32(n);
      let r = this.uint32() >>> (32 - k);
      while (r >= n) r = this.uint32() >>> (32 - k);
      return r;
    }

    shuffle(x) {
      for (let i = x.length - 1; i > 0; i--) {
        const j = this.below(i + 1);
        const t = x[i];
        x[i] = x[j];
        x[j] = t;
      }
    }

    snapshot() {
      return { mt: this.mt.slice(), mti: this.mti, gaussNext: this.gaussNext };
    }

    restore(s) {
      this.mt.set(s.mt);
      this.mti = s.mti;
      this.gaussNext = s.gaussNext;
    }
  }

  // --- the datasets of autograd_lite.nn.data, step for step --------------------------------

  function linspace(start, stop, count) {
    if (count === 1) return [start];
    const out = [];
    for (let i = 0; i < count; i++) out.push(start + (stop - start) * i / (count - 1));
    return out;
  }
  function jittered(rng, points, noise) {
    return points.map((point) => point.map((x) => x + rng.gauss(0.0, noise)));
  }
  function shuffled(rng, points, targets) {
    const order = points.map((_, i) => i);
    rng.shuffle(order);
    return [order.map((i) => points[i]), order.map((i) => targets[i])];
  }
  const DATASETS = {
    moons(n, noise, rng) {
      const points = [];
      const targets = [];
      const upper = Math.floor(n / 2);
      for (const t of linspace(0.0, Math.PI, upper)) {
        points.push([Math.cos(t), Math.sin(t)]);
        targets.push(-1);
      }
      for (const t of linspace(0.0, Math.PI, n - upper)) {
        points.push([1.0 - Math.cos(t), 0.5 - Math.sin(t)]);
        targets.push(1);
      }
      return shuffled(rng, jittered(rng, points, noise), targets);
    },
    circles(n, noise, rng) {
      const points = [];
      const targets = [];
      for (const [radius, count, label] of [[1.0, Math.floor(n / 2), -1], [0.5, n - Math.floor(n / 2), 1]]) {
        for (let i = 0; i < count; i++) {
          const t = 2.0 * Math.PI * i / count;
          points.push([radius * Math.cos(t), radius * Math.sin(t)]);
          targets.push(label);
        }
      }
      return shuffled(rng, jittered(rng, points, noise), targets);
    },
    xor(n, noise, rng) {
      const corners = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
      const points = [];
      for (let i = 0; i < n; i++) points.push(corners[i % 4]);
      const targets = points.map(([a, b]) => (a !== b ? 1 : -1));
      return [jittered(rng, points, noise), targets];
    },
    spiral(n, noise, rng) {
      const perClass = Math.floor(n / 2);
      const points = [];
      const targets = [];
      for (let k = 0; k < 2; k++) {
        for (const r of linspace(0.0, 1.0, perClass)) {
          const angle = 4.0 * k + 4.0 * r + rng.gauss(0.0, noise);
          points.push([r * Math.sin(angle), r * Math.cos(angle)]);
          targets.push(2 * k - 1); // arms 0 and 1 as the classes -1 and +1
        }
      }
      return shuffled(rng, points, targets);
    },
    blobs(n, noise, rng) {
      const half = Math.floor(n / 2);
      const points = [];
      const targets = [];
      for (let i = 0; i < n; i++) {
        points.push(i < half ? [-1.0, -1.0] : [1.0, 1.0]);
        targets.push(i < half ? -1 : 1);
      }
      return shuffled(rng, jittered(rng, points, noise), targets);
    },
  };

  // points, noise, seed -> {train, test, domain}: the first share of the points trains
  function makeData(cfg) {
    const [points, labels] = DATASETS[cfg.dataset](cfg.points, cfg.noise, new PyRandom(cfg.seed));
    const all = points.map((p, i) => [p[0], p[1], labels[i]]);
    const trainCount = Math.min(all.length - 1, Math.max(1, Math.floor(all.length * cfg.trainFraction + 0.5)));
    let low = [Infinity, Infinity];
    let high = [-Infinity, -Infinity];
    for (const [a, b] of all) {
      low = [Math.min(low[0], a), Math.min(low[1], b)];
      high = [Math.max(high[0], a), Math.max(high[1], b)];
    }
    const centre = [(low[0] + high[0]) / 2, (low[1] + high[1]) / 2];
    const half = Math.max(high[0] - low[0], high[1] - low[1], 0.5) / 2 * 1.15 + 0.1;
    return {
      train: all.slice(0, trainCount),
      test: all.slice(trainCount),
      domain: { x: [centre[0] - half, centre[0] + half], y: [centre[1] - half, centre[1] + half] },
    };
  }

  const FEATURES = {
    x1: (p) => p[0],
    x2: (p) => p[1],
    x1sq: (p) => p[0] * p[0],
    x2sq: (p) => p[1] * p[1],
    x1x2: (p) => p[0] * p[1],
    sinx1: (p) => Math.sin(p[0]),
    sinx2: (p) => Math.sin(p[1]),
  };
  const FEATURE_LABELS = Object.fromEntries(DATA.features.map((f) => [f.name, f.label]));
  const FEATURE_ORDER = DATA.features.map((f) => f.name);

  // --- the configuration: what the URL holds -----------------------------------------------

  const DEFAULTS = DATA.defaults;
  const CHOICES = DATA.choices;
  const HIDEABLE = DATA.hideable;

  function fail(key, wanted, value) {
    return new TypeError(`autogradLite.load: ${key} must be ${wanted}, got ${JSON.stringify(value)}`);
  }
  const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
  const isWhole = (v) => Number.isInteger(v);
  function inRange(key, v, low, high) {
    if (!isNumber(v) || v < low || v > high) throw fail(key, `a number from ${low} to ${high}`, v);
    return v;
  }
  function oneOf(key, v, choices) {
    if (!choices.includes(v)) throw fail(key, `one of ${choices.join(", ")}`, v);
    return v;
  }
  const CHECKS = {
    dataset: (v) => oneOf("dataset", v, CHOICES.datasets),
    noise: (v) => inRange("noise", v, 0, 1),
    points: (v) => {
      if (!isWhole(v) || v < LIMITS.minPoints || v > LIMITS.maxPoints) {
        throw fail("points", `a whole number from ${LIMITS.minPoints} to ${LIMITS.maxPoints}`, v);
      }
      return v;
    },
    trainFraction: (v) => inRange("trainFraction", v, 0.1, 0.9),
    features: (v) => {
      if (!Array.isArray(v) || v.length === 0 || new Set(v).size !== v.length || !v.every((f) => f in FEATURES)) {
        throw fail("features", `a list of different features among ${FEATURE_ORDER.join(", ")}`, v);
      }
      return FEATURE_ORDER.filter((f) => v.includes(f)); // in the page's order
    },
    layers: (v) => {
      if (!Array.isArray(v) || v.length > LIMITS.maxLayers ||
          !v.every((n) => isWhole(n) && n >= 1 && n <= LIMITS.maxNeurons)) {
        throw fail("layers", `a list of up to ${LIMITS.maxLayers} sizes from 1 to ${LIMITS.maxNeurons}`, v);
      }
      return v.slice();
    },
    activation: (v) => oneOf("activation", v, CHOICES.activations),
    loss: (v) => oneOf("loss", v, CHOICES.losses),
    learningRate: (v) => {
      if (!isNumber(v) || v <= 0 || v > 100) throw fail("learningRate", "a number above 0, at most 100", v);
      return v;
    },
    batchSize: (v) => {
      if (!isWhole(v) || v < 1 || v > LIMITS.maxBatch) throw fail("batchSize", `a whole number from 1 to ${LIMITS.maxBatch}`, v);
      return v;
    },
    regularization: (v) => oneOf("regularization", v, CHOICES.regularizations),
    regularizationRate: (v) => inRange("regularizationRate", v, 0, 100),
    seed: (v) => {
      if (!isWhole(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw fail("seed", "a whole number >= 0", v);
      return v;
    },
    hide: (v) => {
      if (!Array.isArray(v) || !v.every((h) => HIDEABLE.includes(h))) {
        throw fail("hide", `a list among ${HIDEABLE.join(", ")}`, v);
      }
      return v.slice();
    },
  };
  const LIST_KEYS = new Set(["features", "layers", "hide"]);
  const TEXT_KEYS = new Set(["dataset", "activation", "loss", "regularization", "features", "hide"]);

  function checkedConfig(partial, base) {
    if (partial === null || typeof partial !== "object" || Array.isArray(partial)) {
      throw new TypeError(`autogradLite.load: expected an object of settings, got ${JSON.stringify(partial)}`);
    }
    const out = { ...base };
    for (const [key, value] of Object.entries(partial)) {
      if (!(key in CHECKS)) {
        throw new TypeError(`autogradLite.load: unknown setting ${JSON.stringify(key)}; the settings are ${Object.keys(CHECKS).join(", ")}`);
      }
      out[key] = CHECKS[key](value);
    }
    if (out.dataset === "xor" && out.points < 4) throw fail("points", "at least 4 for xor", out.points);
    return out;
  }

  function toQuery(cfg) {
    const params = new URLSearchParams();
    for (const key of Object.keys(CHECKS)) {
      if (key === "hide" && cfg.hide.length === 0) continue;
      params.set(key, LIST_KEYS.has(key) ? cfg[key].join(",") : String(cfg[key]));
    }
    return params.toString().replace(/%2C/g, ",");
  }

  // the URL's settings: each bad one is named in the notice and left at its default
  function fromQuery(text) {
    const params = new URLSearchParams(text.replace(/^#/, ""));
    let cfg = { ...DEFAULTS };
    const problems = [];
    for (const [key, raw] of params) {
      if (!(key in CHECKS)) { problems.push(`unknown setting ${key}`); continue; }
      let value;
      if (LIST_KEYS.has(key)) {
        const parts = raw === "" ? [] : raw.split(",");
        value = TEXT_KEYS.has(key) ? parts : parts.map((p) => (p.trim() === "" ? NaN : Number(p)));
      } else {
        value = TEXT_KEYS.has(key) ? raw : (raw.trim() === "" ? NaN : Number(raw));
      }
      try {
        cfg = checkedConfig({ [key]: value }, cfg);
      } catch (error) {
        const rule = error.message.replace("autogradLite.load: ", "").replace(/, got .*$/, "");
        problems.push(`${key}=${raw}: ${rule} (kept ${JSON.stringify(cfg[key])})`);
      }
    }
    return { cfg, problems };
  }

  // --- the code: the exporter's pieces put together for this network ------------------------

  const TEXTS = DATA.code.texts;
  const NAMES = DATA.names;
  const named = (format, parts) => format.replace(/\{(\w)\}/g, (_, k) => String(parts[k]));
  const weightName = (l, j, i) => named(NAMES.weight, { l, j, i });
  const biasName = (l, j) => named(NAMES.bias, { l, j });
  const neuronName = (l, j) => named(NAMES.neuron, { l, j });
  const inputName = (i) => named(NAMES.input, { i });

  function fill(text, holes) {
    return text.replace(/⟪(\w+)⟫/g, (_, hole) => String(holes[hole]));
  }

  // the normalized file of export_model for a network of these sizes ([nin, ...hidden, 1])
  function compose(sizes, activation, loss) {
    const last = sizes.length - 2;
    const template = last === 0 ? DATA.code.flat[loss] : DATA.code.deep[`${activation}/${loss}`];
    const role = (l) => (last === 0 ? "only" : l === 0 ? "first" : l === last ? "output" : "middle");
    let code = "";
    for (const section of template) {
      if (typeof section === "number") {
        code += fill(TEXTS[section], { last });
        continue;
      }
      const [direction, parts] = section;
      const order = [...Array(last + 1).keys()];
      if (direction === "down") order.reverse();
      for (const l of order) {
        code += fill(TEXTS[parts[role(l)]], {
          l, p: l - 1, n: sizes[l + 1], n1: sizes[l + 1] - 1, m: sizes[l], last,
        });
      }
    }
    return code;
  }

  // the file as a function of params: it returns its passes and a handle on every variable
  function compile(code) {
    const fields = [];
    for (const line of code.split("\n")) {
      const found = /^(const|let) ([^=;]+?)\s*(=|;)/.exec(line);
      if (!found) continue;
      for (const name of found[2].split(",").map((s) => s.trim())) {
        fields.push(found[1] === "const" ? name : `get ${name}() { return ${name}; }, set ${name}(v) { ${name} = v; }`);
      }
    }
    // A file written for node stops where the engine refuses (console.error, process.exit):
    // in the page, that stops the step, as the engine's error stops a step in Python.
    const body = `"use strict";\nconst { console, process } = stop;\n${code}\n` +
      `return { forward, backward, sgd_step, ${fields.join(", ")} };`;
    // eslint-disable-next-line no-new-func -- the exporter's code, written into this file
    return new Function("params", "stop", body);
  }

  class Refusal extends Error {}
  const STOP = {
    why: "",
    console: { error: (why) => { STOP.why = String(why); } },
    process: { exit: () => { throw new Refusal(STOP.why || "the engine refuses"); } },
  };

  // --- the model: weights as MLP(nin, [...hidden, 1], activation, seed=seed) draws them -----

  function initialWeights(sizes, activation, seed) {
    const rng = new PyRandom(seed);
    const last = sizes.length - 2;
    const weights = {};
    for (let l = 0; l <= last; l++) {
      const act = l === last ? DATA.save.outputActivation : activation;
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const bound = act === "relu" || act === "leaky_relu" ? Math.sqrt(6.0 / fanIn) : Math.sqrt(6.0 / (fanIn + fanOut));
      const rows = [];
      for (let j = 0; j < fanOut; j++) {
        const row = [];
        for (let i = 0; i < fanIn; i++) row.push(rng.uniform(-bound, bound));
        rows.push(row);
      }
      weights[`L${l}_w`] = rows;
      weights[`L${l}_b`] = new Array(fanOut).fill(0.0);
    }
    return weights;
  }

  // --- the trainer ------------------------------------------------------------------------

  const T = {}; // everything about the run: filled by reset()
  let cfg = { ...DEFAULTS };

  function target(label) {
    return cfg.loss === "bce_with_logits" ? (label > 0 ? 1.0 : 0.0) : label;
  }

  function reset(newConfig) {
    pause();
    cfg = newConfig || cfg;
    const sizes = [cfg.features.length, ...cfg.layers, 1];
    const code = compose(sizes, cfg.activation, cfg.loss);
    const weights = initialWeights(sizes, cfg.activation, cfg.seed);
    const params = { ...weights, x: new Array(sizes[0]).fill(0), t0: 0.0, n: 1.0, lr: cfg.learningRate };
    const prog = compile(code)(params, STOP);
    const last = sizes.length - 2;
    const list = [];
    for (let l = 0; l <= last; l++) {
      for (let j = 0; j < sizes[l + 1]; j++) {
        for (let i = 0; i < sizes[l]; i++) list.push({ name: weightName(l, j, i), l, j, i });
        list.push({ name: biasName(l, j), l, j, i: sizes[l] });
      }
    }
    const index = {};
    list.forEach((p, k) => { index[`${p.l}.${p.j}.${p.i}`] = k; });
    // where each layer's numbers of one sample live in a record: x, then z, a, ∂E/∂z, ∂E/∂a
    const offsets = [];
    let width = sizes[0];
    for (let l = 0; l <= last; l++) { offsets.push(width); width += 4 * sizes[l + 1]; }
    const layerOut = [];
    const layerDz = [];
    const layerDa = [];
    for (let l = 0; l <= last; l++) {
      const linear = l === last || cfg.activation === "linear";
      layerOut.push(prog[linear ? `L${l}_z` : `L${l}_a`]);
      layerDz.push(prog[`dE_dL${l}_z`]);
      layerDa.push(linear ? prog[`dE_dL${l}_z`] : prog[`dE_dL${l}_a`]);
    }
    const data = makeData(cfg);
    Object.assign(T, {
      sizes, last, code, prog, weights, list, index, offsets, width, layerOut, layerDz, layerDa,
      train: data.train, test: data.test, domain: data.domain, step: 0,
      rng: new PyRandom(cfg.seed), order: data.train.map((_, i) => i), position: data.train.length,
      chart: { train: [], test: [] }, history: [], cursor: 0,
    });
    T.epoch = -1; // fit() counts epochs from 0: the first batch starts epoch 0
    const scores = evaluateAll();
    pushEntry({ step: 0, before: null, grads: null, after: readWeights(), scores });
    buildNetwork();
    byId("code").textContent = code;
    syncControls();
    render();
  }

  function readWeights() {
    const out = new Float64Array(T.list.length);
    let k = 0;
    for (let l = 0; l <= T.last; l++) {
      const w = T.weights[`L${l}_w`];
      const b = T.weights[`L${l}_b`];
      for (let j = 0; j < w.length; j++) {
        for (let i = 0; i < w[j].length; i++) out[k++] = w[j][i];
        out[k++] = b[j];
      }
    }
    return out;
  }

  function writeWeights(flat) {
    let k = 0;
    for (let l = 0; l <= T.last; l++) {
      const w = T.weights[`L${l}_w`];
      const b = T.weights[`L${l}_b`];
      for (let j = 0; j < w.length; j++) {
        for (let i = 0; i < w[j].length; i++) w[j][i] = flat[k++];
        b[j] = flat[k++];
      }
    }
  }

  function setInputs(point) {
    const x = T.prog.x;
    const features = cfg.features;
    for (let i = 0; i < features.length; i++) x[i] = FEATURES[features[i]](point);
  }

  // the next mini-batch, as fit() draws them: the order reshuffled at every epoch
  function nextBatch() {
    const count = T.train.length;
    if (T.position >= count) {
      if (cfg.batchSize < count) T.rng.shuffle(T.order);
      T.position = 0;
      T.epoch += 1;
    }
    const batch = T.order.slice(T.position, T.position + cfg.batchSize);
    T.position += batch.length;
    return batch;
  }

  function schedule() {
    return { rng: T.rng.snapshot(), order: T.order.slice(), position: T.position, epoch: T.epoch };
  }

  // one step of gradient descent on one mini-batch: the exporter's passes, sample by sample.
  // Where the engine would refuse (an overflow) or SGD.step would (a gradient or a new weight
  // that is not a finite number), the step is undone and a Refusal says why.
  function trainStep() {
    resumeHere();
    const before = readWeights();
    try {
      stepOnce(before);
    } catch (error) {
      writeWeights(before);
      restoreSchedule(current());
      throw error;
    }
  }

  function stepOnce(before) {
    const prog = T.prog;
    const batch = nextBatch();
    const n = batch.length;
    const count = T.list.length;
    const sums = new Float64Array(count); // 0.0, as zero_grad() leaves every grad
    const rate = cfg.regularizationRate;
    // the penalty's share first: the engine reaches P before the samples going back from E
    if (cfg.regularization === "L2" && rate > 0) {
      for (let k = 0; k < count; k++) { sums[k] += before[k] * rate; sums[k] += before[k] * rate; }
    } else if (cfg.regularization === "L1" && rate > 0) {
      for (let k = 0; k < count; k++) sums[k] += Math.sign(before[k]) * rate;
    }
    prog.n = n;
    prog.lr = cfg.learningRate;
    const records = new Float64Array(n * T.width);
    // the last sample first: the engine's backward pass meets the batch's samples backwards
    for (let s = n - 1; s >= 0; s--) {
      const point = T.train[batch[s]];
      setInputs(point);
      prog.t0 = target(point[2]);
      prog.forward();
      prog.backward();
      record(records, s);
      let k = 0;
      for (let l = 0; l <= T.last; l++) {
        const gw = prog[`dE_dL${l}_w`];
        const gb = prog[`dE_dL${l}_b`];
        for (let j = 0; j < gw.length; j++) {
          const row = gw[j];
          for (let i = 0; i < row.length; i++) sums[k++] += row[i];
          sums[k++] += gb[j];
        }
      }
    }
    const bad = sums.findIndex((g) => !Number.isFinite(g));
    if (bad >= 0) throw new Refusal(`the gradient of ${T.list[bad].name} is ${sums[bad]}`);
    // the batch's gradients where sgd_step() reads them, then its step
    let k = 0;
    for (let l = 0; l <= T.last; l++) {
      const gw = prog[`dE_dL${l}_w`];
      const gb = prog[`dE_dL${l}_b`];
      for (let j = 0; j < gw.length; j++) {
        for (let i = 0; i < gw[j].length; i++) gw[j][i] = sums[k++];
        gb[j] = sums[k++];
      }
    }
    prog.sgd_step();
    const after = readWeights();
    const wrong = after.findIndex((w) => !Number.isFinite(w));
    if (wrong >= 0) throw new Refusal(`the step would make ${T.list[wrong].name} ${after[wrong]}`);
    T.step += 1;
    const scores = evaluateAll();
    pushEntry({
      step: T.step, epoch: T.epoch, before, grads: sums, after, batch, records, scores,
      lr: cfg.learningRate, regularization: cfg.regularization, rate, loss: cfg.loss, n,
    });
  }

  function record(records, s) {
    const base = s * T.width;
    const x = T.prog.x;
    for (let i = 0; i < x.length; i++) records[base + i] = x[i];
    for (let l = 0; l <= T.last; l++) {
      const n = T.sizes[l + 1];
      const at = base + T.offsets[l];
      const z = T.prog[`L${l}_z`];
      const a = T.layerOut[l];
      const dz = T.layerDz[l];
      const da = T.layerDa[l];
      for (let j = 0; j < n; j++) {
        records[at + j] = z[j];
        records[at + n + j] = a[j];
        records[at + 2 * n + j] = dz[j];
        records[at + 3 * n + j] = da[j];
      }
    }
  }

  function output() {
    return T.prog[`L${T.last}_z`][0];
  }

  // loss (mean over the points, without the penalty) and accuracy, at the current weights
  function score(points) {
    const prog = T.prog;
    prog.n = 1.0;
    let total = 0;
    let right = 0;
    for (const point of points) {
      setInputs(point);
      prog.t0 = target(point[2]);
      try {
        prog.forward();
        total += prog.E;
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        total = NaN; // the engine would refuse this loss: it has no value
      }
      if ((output() > 0) === (point[2] > 0)) right += 1;
    }
    return points.length ? [total / points.length, right / points.length] : [NaN, NaN];
  }

  function evaluateAll() {
    const [trainLoss, trainAccuracy] = score(T.train);
    const [testLoss, testAccuracy] = score(T.test);
    return { trainLoss, trainAccuracy, testLoss, testAccuracy };
  }

  function pushEntry(entry) {
    entry.schedule = schedule();
    T.history.push(entry);
    if (T.history.length > LIMITS.history) T.history.shift();
    T.cursor = T.history.length - 1;
    T.chart.train[entry.step] = entry.scores.trainLoss;
    T.chart.test[entry.step] = entry.scores.testLoss;
  }

  const current = () => T.history[T.cursor];

  // move the whole page to an earlier step: its weights, its numbers, its place in the epochs
  function goTo(cursor) {
    T.cursor = Math.max(0, Math.min(T.history.length - 1, cursor));
    const entry = current();
    writeWeights(entry.after);
    T.step = entry.step;
    T.epoch = entry.schedule.epoch;
    render();
  }

  // training goes on from the step shown: the steps after it are forgotten
  function resumeHere() {
    if (T.cursor === T.history.length - 1) return;
    const entry = current();
    T.history.length = T.cursor + 1;
    T.chart.train.length = entry.step + 1;
    T.chart.test.length = entry.step + 1;
    restoreSchedule(entry);
  }

  function restoreSchedule(entry) {
    T.rng.restore(entry.schedule.rng);
    T.order = entry.schedule.order.slice();
    T.position = entry.schedule.position;
    T.epoch = entry.schedule.epoch;
    T.step = entry.step;
  }

  // steps from the buttons and the play loop: a refusal pauses and says why
  function train(steps) {
    for (let k = 0; k < steps; k++) {
      try {
        trainStep();
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        pause();
        notice(`Step ${T.step + 1} was refused: ${error.message}. Training has diverged: lower the learning rate, then Reset.`);
        return false;
      }
    }
    return true;
  }

  function addPoint(x1, x2, label) {
    resumeHere();
    T.train.push([x1, x2, label]);
    // a new epoch starts, in order, with the new point among the others
    T.order = T.train.map((_, i) => i);
    T.position = T.train.length;
    const entry = current();
    entry.schedule = schedule();
    entry.scores = evaluateAll();
    T.chart.train[entry.step] = entry.scores.trainLoss;
    render();
  }

  // --- drawing ----------------------------------------------------------------------------

  const GRID = 40; // points per side where the network is evaluated for the heat maps
  const COLOURS = (function () {
    const style = getComputedStyle(document.documentElement);
    const hex = (name) => {
      const text = style.getPropertyValue(name).trim();
      return [1, 3, 5].map((k) => parseInt(text.slice(k, k + 2), 16));
    };
    return { positive: hex("--positive"), negative: hex("--negative") };
  })();
  const LUT = (function () {
    const out = new Uint8ClampedArray(256 * 4);
    for (let k = 0; k < 256; k++) {
      const v = (k / 255) * 2 - 1;
      const c = v >= 0 ? COLOURS.positive : COLOURS.negative;
      const t = Math.abs(v) * 0.8;
      for (let ch = 0; ch < 3; ch++) out[k * 4 + ch] = Math.round(255 + (c[ch] - 255) * t);
      out[k * 4 + 3] = 255;
    }
    return out;
  })();
  const lutIndex = (v) => (v >= 1 ? 255 : v <= -1 ? 0 : v === v ? Math.round((v + 1) * 127.5) : 128) * 4;
  const shade = document.createElement("canvas");
  shade.width = shade.height = GRID;
  const shadeContext = shade.getContext("2d");
  const shadeImage = shadeContext.createImageData(GRID, GRID);

  function paint(canvas, values) {
    const pixels = shadeImage.data;
    for (let k = 0; k < GRID * GRID; k++) {
      const at = lutIndex(values[k]);
      pixels[k * 4] = LUT[at];
      pixels[k * 4 + 1] = LUT[at + 1];
      pixels[k * 4 + 2] = LUT[at + 2];
      pixels[k * 4 + 3] = 255;
    }
    shadeContext.putImageData(shadeImage, 0, 0);
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = true;
    context.drawImage(shade, 0, 0, canvas.width, canvas.height);
  }

  function gridPoint(gx, gy) {
    const { x, y } = T.domain;
    return [x[0] + (x[1] - x[0]) * (gx + 0.5) / GRID, y[1] - (y[1] - y[0]) * (gy + 0.5) / GRID];
  }

  // every neuron's output over the plane (rows from the top): the heat maps
  function evaluateGrid() {
    const maps = T.layerOut.map((out) => out.map(() => new Float32Array(GRID * GRID)));
    const prog = T.prog;
    prog.n = 1.0;
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        setInputs(gridPoint(gx, gy));
        try {
          prog.forward();
        } catch (error) { // the error refused here; the outputs before it are there
          if (!(error instanceof Refusal)) throw error;
        }
        const k = gy * GRID + gx;
        for (let l = 0; l <= T.last; l++) {
          const out = T.layerOut[l];
          const map = maps[l];
          for (let j = 0; j < out.length; j++) map[j][k] = out[j];
        }
      }
    }
    const top = maps[T.last][0];
    if (cfg.loss === "bce_with_logits") for (let k = 0; k < top.length; k++) top[k] = Math.tanh(top[k] / 2); // 2σ(z) − 1
    return maps;
  }

  function toCanvas(canvas, [a, b]) {
    const { x, y } = T.domain;
    return [(a - x[0]) / (x[1] - x[0]) * canvas.width, (y[1] - b) / (y[1] - y[0]) * canvas.height];
  }

  function drawMap(values) {
    const canvas = byId("map");
    paint(canvas, values);
    const context = canvas.getContext("2d");
    const showTest = byId("show-test").checked;
    const dot = (point, ring) => {
      const [px, py] = toCanvas(canvas, point);
      context.beginPath();
      context.arc(px, py, 3.6, 0, 2 * Math.PI);
      const c = point[2] > 0 ? COLOURS.positive : COLOURS.negative;
      context.fillStyle = `rgb(${c.join(",")})`;
      context.fill();
      context.lineWidth = 1.3;
      context.strokeStyle = ring;
      context.stroke();
    };
    for (const point of T.train) dot(point, "#ffffff");
    if (showTest) for (const point of T.test) dot(point, "#1d232a");
  }

  function drawChart() {
    const canvas = byId("chart");
    const context = canvas.getContext("2d");
    const { width, height } = canvas;
    context.clearRect(0, 0, width, height);
    const steps = T.chart.train.length;
    const shown = T.step + 1;
    let top = 0;
    for (let s = 0; s < steps; s++) top = Math.max(top, T.chart.train[s] || 0, T.chart.test[s] || 0);
    top = top || 1;
    const span = Math.max(steps - 1, 1);
    const line = (values, colour, dash) => {
      context.beginPath();
      context.setLineDash(dash);
      context.strokeStyle = colour;
      context.lineWidth = 1.5;
      const every = Math.max(1, Math.floor(steps / width));
      for (let s = 0; s < steps; s += every) {
        const v = values[s];
        if (!Number.isFinite(v)) continue;
        const px = (s / span) * (width - 2) + 1;
        const py = height - 2 - (Math.min(v, top) / top) * (height - 6);
        if (s === 0) context.moveTo(px, py); else context.lineTo(px, py);
      }
      context.stroke();
      context.setLineDash([]);
    };
    line(T.chart.test, "#5b6570", [4, 3]);
    line(T.chart.train, "#1d232a", []);
    if (shown < steps) { // rewound: a cursor at the step shown
      const px = ((shown - 1) / span) * (width - 2) + 1;
      context.fillStyle = "rgba(204,121,167,.9)";
      context.fillRect(px - 1, 0, 2, height);
    }
  }

  // --- the network: features, hidden layers, output; edges as thick as their weight --------

  const SVG = "http://www.w3.org/2000/svg";
  const NET = { nodes: {}, edges: [], canvases: [] };

  function geometry() {
    const box = byId("network");
    const width = Math.max(300, box.clientWidth);
    const columns = T.last + 2;
    const rows = Math.max(FEATURE_ORDER.length, ...T.sizes.slice(1, -1), 1);
    const size = width < 480 ? 26 : 34;
    const gap = width < 480 ? 10 : 12;
    const top = 34;
    const margin = 44;
    const step = columns > 1 ? (width - margin - size - 8) / (columns - 1) : 0;
    const height = top + rows * (size + gap) + 8;
    return { width, height, size, gap, top, margin, step };
  }

  function buildNetwork() {
    const box = byId("network");
    box.textContent = "";
    const g = geometry();
    NET.g = g;
    NET.nodes = {};
    NET.edges = [];
    NET.canvases = [];
    box.style.height = `${g.height}px`;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", g.width);
    svg.setAttribute("height", g.height);
    svg.classList.add("edges");
    box.append(svg);
    const columnX = (c) => g.margin + c * g.step;
    const nodeY = (k) => g.top + k * (g.size + g.gap);
    const positions = [];
    // the features: all of them, the chosen ones lit; a click turns one on or off
    const inputs = [];
    FEATURE_ORDER.forEach((name, k) => {
      const on = cfg.features.includes(name);
      const node = document.createElement("button");
      node.type = "button";
      node.className = `node feature${on ? "" : " off"}`;
      node.style.left = `${columnX(0)}px`;
      node.style.top = `${nodeY(k)}px`;
      node.style.width = node.style.height = `${g.size}px`;
      node.dataset.feature = name;
      node.title = on ? `${FEATURE_LABELS[name]}: input ${inputName(cfg.features.indexOf(name))} of the network (click to leave it out)` : `${FEATURE_LABELS[name]} (click to use it)`;
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = g.size;
      node.append(canvas);
      const label = document.createElement("span");
      label.className = "feature-label";
      label.textContent = FEATURE_LABELS[name];
      node.append(label);
      box.append(node);
      node.addEventListener("click", () => toggleFeature(name));
      NET.canvases.push({ canvas, feature: name });
      if (on) inputs.push([columnX(0) + g.size, nodeY(k) + g.size / 2]);
    });
    positions.push(inputs);
    for (let l = 0; l <= T.last; l++) {
      const column = [];
      const x = columnX(l + 1);
      for (let j = 0; j < T.sizes[l + 1]; j++) {
        const y = l === T.last ? nodeY(Math.floor((FEATURE_ORDER.length - 1) / 2)) : nodeY(j);
        const node = document.createElement("div");
        node.className = `node neuron${l === T.last ? " output" : ""}`;
        node.style.left = `${x}px`;
        node.style.top = `${y}px`;
        node.style.width = node.style.height = `${g.size}px`;
        node.dataset.neuron = neuronName(l, j);
        node.tabIndex = 0;
        node.setAttribute("role", "button");
        node.title = `${neuronName(l, j)}: click for z, a and δ = ∂E/∂z`;
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = g.size;
        node.append(canvas);
        const bias = document.createElement("div");
        bias.className = "bias";
        bias.dataset.name = biasName(l, j);
        bias.title = `${biasName(l, j)}: the bias b (click for ∂E/∂b)`;
        node.append(bias);
        box.append(node);
        node.addEventListener("click", (event) => {
          if (event.target === bias) select({ kind: "weight", l, j, i: T.sizes[l] });
          else select({ kind: "neuron", l, j });
        });
        node.addEventListener("keydown", (event) => {
          if (event.key === "Enter") select({ kind: "neuron", l, j });
        });
        NET.canvases.push({ canvas, l, j });
        NET.nodes[`${l}.${j}`] = node;
        column.push([x, y + g.size / 2]);
      }
      positions.push(column);
      if (l < T.last) { // a hidden layer's own + and − buttons
        const buttons = document.createElement("div");
        buttons.className = "neuron-buttons";
        buttons.dataset.control = "layers";
        buttons.style.left = `${x + g.size / 2}px`;
        const add = document.createElement("button");
        add.type = "button";
        add.textContent = "+";
        add.title = `a neuron more in layer ${l}`;
        add.addEventListener("click", () => resize(l, +1));
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "−";
        remove.title = `a neuron less in layer ${l}`;
        remove.addEventListener("click", () => resize(l, -1));
        buttons.append(remove, add);
        box.append(buttons);
      }
    }
    for (let l = 0; l <= T.last; l++) {
      for (let j = 0; j < T.sizes[l + 1]; j++) {
        for (let i = 0; i < T.sizes[l]; i++) {
          const [x0, y0] = positions[l][i];
          const [x1, y1] = positions[l + 1][j];
          const middle = (x0 + x1) / 2;
          const d = `M${x0},${y0} C${middle},${y0} ${middle},${y1} ${x1},${y1}`;
          const path = document.createElementNS(SVG, "path");
          path.setAttribute("d", d);
          path.classList.add("edge");
          const hit = document.createElementNS(SVG, "path");
          hit.setAttribute("d", d);
          hit.classList.add("hit");
          hit.dataset.name = weightName(l, j, i);
          const title = document.createElementNS(SVG, "title");
          title.textContent = `${weightName(l, j, i)}: click for ∂E/∂w = δ · a`;
          hit.append(title);
          hit.addEventListener("click", () => select({ kind: "weight", l, j, i }));
          svg.append(path, hit);
          NET.edges.push({ path, k: T.index[`${l}.${j}.${i}`], l, j, i });
        }
      }
    }
    byId("layer-count").textContent = String(T.last);
    byId("add-layer").disabled = T.last >= LIMITS.maxLayers;
    byId("remove-layer").disabled = T.last === 0;
    applyHidden();
  }

  function drawNetwork(maps) {
    // the features' maps do not change while training: painted with the grid's inputs
    const entry = current();
    const byGradient = document.querySelector("input[name=edges]:checked").value === "gradients";
    const values = byGradient ? entry.grads : readWeights();
    for (const item of NET.canvases) {
      if (item.feature) {
        if (item.painted !== T.domain) {
          const map = new Float32Array(GRID * GRID);
          for (let gy = 0; gy < GRID; gy++) {
            for (let gx = 0; gx < GRID; gx++) map[gy * GRID + gx] = FEATURES[item.feature](gridPoint(gx, gy));
          }
          let largest = 0;
          for (const v of map) largest = Math.max(largest, Math.abs(v));
          for (let k = 0; k < map.length; k++) map[k] /= largest || 1;
          paint(item.canvas, map);
          item.painted = T.domain;
        }
      } else {
        paint(item.canvas, maps[item.l][item.j]);
      }
    }
    let top = 0;
    if (values) for (const v of values) top = Math.max(top, Math.abs(v));
    for (const edge of NET.edges) {
      const v = values ? values[edge.k] : 0;
      const strength = top > 0 ? Math.abs(v) / top : 0;
      edge.path.setAttribute("stroke-width", (0.4 + 5.6 * strength).toFixed(2));
      edge.path.setAttribute("class", `edge ${v > 0 ? "positive" : v < 0 ? "negative" : "zero"}`);
    }
    const selected = T.selection;
    document.querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
    if (selected) {
      if (selected.kind === "neuron") NET.nodes[`${selected.l}.${selected.j}`]?.classList.add("selected");
      else {
        const edge = NET.edges.find((e) => e.l === selected.l && e.j === selected.j && e.i === selected.i);
        if (edge) edge.path.classList.add("selected");
        else NET.nodes[`${selected.l}.${selected.j}`]?.querySelector(".bias").classList.add("selected");
      }
    }
    if (T.walk) highlightWalk();
  }

  function render() {
    const maps = evaluateGrid();
    drawMap(maps[T.last][0]);
    drawNetwork(maps);
    drawChart();
    const entry = current();
    byId("step-count").textContent = String(T.step);
    byId("epoch-count").textContent = String(Math.max(0, T.epoch));
    const percent = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "–");
    byId("train-loss").textContent = fmt(entry.scores.trainLoss);
    byId("test-loss").textContent = fmt(entry.scores.testLoss);
    byId("train-accuracy").textContent = percent(entry.scores.trainAccuracy);
    byId("test-accuracy").textContent = percent(entry.scores.testAccuracy);
    const slider = byId("history");
    slider.min = "0";
    slider.max = String(T.history.length - 1);
    slider.value = String(T.cursor);
    slider.disabled = T.playing || T.history.length < 2;
    const live = T.cursor === T.history.length - 1;
    const kept = T.history.length - 1;
    byId("history-label").textContent = live
      ? (kept ? `the last ${kept} step${kept > 1 ? "s are" : " is"} kept` : "no step yet")
      : `step ${T.step} of ${T.history[T.history.length - 1].step}: Play or Step goes on from here`;
    byId("history-row").classList.toggle("rewound", !live);
    inspect();
  }

  // --- numbers as the inspector writes them ------------------------------------------------

  function fmt(x) {
    if (x === undefined || x === null || Number.isNaN(x)) return "–";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e5 || a < 1e-4) return x.toExponential(3);
    return String(Number(x.toPrecision(4)));
  }

  function num(x, role, extra) {
    const shown = fmt(x);
    const text = x < 0 && shown !== "–" ? `(${shown})` : shown;
    return `<span class="num" data-role="${role}" data-value="${String(x)}" title="${String(x)}"${extra || ""}>${text}</span>`;
  }

  // --- the inspector: the chain rule of the last step, with its numbers --------------------

  function select(selection) {
    if (T.playing) pause();
    T.selection = selection;
    T.sample = 0;
    T.walk = null;
    T.showSamples = false;
    render();
    byId("inspector").scrollIntoView({ block: "nearest" });
  }

  const ACTIVATION_SLOPE = {
    tanh: ["1 − a²", (z, a) => 1 - a * a],
    sigmoid: ["a (1 − a)", (z, a) => a * (1 - a)],
    relu: ["1 if z > 0, else 0", (z) => (z > 0 ? 1 : 0)],
    linear: ["1", () => 1],
  };
  const LOSS_SLOPE = {
    mse: "∂E/∂z = −2 (t − z) / n, with E = (t − z)² / n for this sample",
    hinge: "∂E/∂z = −t / n where t·z < 1, else 0, with E = max(0, 1 − t·z) / n",
    bce_with_logits: "∂E/∂z = (σ(z) − t) / n, with E = (log(1 + e^z) − z·t) / n",
  };

  function sampleAt(entry, s) {
    const base = s * T.width;
    const r = entry.records;
    const layer = (l) => {
      const n = T.sizes[l + 1];
      const at = base + T.offsets[l];
      return {
        z: (j) => r[at + j], a: (j) => r[at + n + j], dz: (j) => r[at + 2 * n + j], da: (j) => r[at + 3 * n + j],
      };
    };
    return { x: (i) => r[base + i], layer };
  }

  function inputLabel(l, i) {
    return l === 0 ? `${inputName(i)} = ${FEATURE_LABELS[cfg.features[i]]}` : `a of ${neuronName(l - 1, i)}`;
  }

  function inspect() {
    const box = byId("inspector");
    const entry = current();
    const selection = T.selection;
    if (!selection) {
      box.innerHTML = '<p class="small">Pause, then click a weight (a line), a bias (the small square of a neuron) or a neuron to see how its gradient was made at the last step.</p>';
      return;
    }
    if (!entry.grads) {
      box.innerHTML = `<p class="small">${selection.kind === "neuron" ? neuronName(selection.l, selection.j) : paramName(selection)}: take a step first (Step ▶): the inspector shows the numbers of the last step.</p>`;
      return;
    }
    box.innerHTML = selection.kind === "neuron" ? neuronHtml(entry, selection) : weightHtml(entry, selection);
    box.querySelector("#close-inspector")?.addEventListener("click", () => { T.selection = null; T.walk = null; render(); });
    box.querySelector("#toggle-samples")?.addEventListener("click", () => { T.showSamples = !T.showSamples; inspect(); });
    box.querySelector("#previous-sample")?.addEventListener("click", () => { T.sample = (T.sample + entry.n - 1) % entry.n; inspect(); });
    box.querySelector("#next-sample")?.addEventListener("click", () => { T.sample = (T.sample + 1) % entry.n; inspect(); });
    wireWalk(box, entry);
  }

  function paramName({ l, j, i }) {
    return i === T.sizes[l] ? biasName(l, j) : weightName(l, j, i);
  }

  function updateLine(entry, k, what) {
    return `<p class="formula">${what} ← ${what} − lr × ∂E/∂${what} = ${num(entry.before[k], "before")} − ${num(entry.lr, "lr")} × ${num(entry.grads[k], "grad")} = ${num(entry.after[k], "after")}</p>`;
  }

  function penaltyPart(entry, k) {
    const w = entry.before[k];
    if (entry.regularization === "L2" && entry.rate > 0) {
      return [(0.0 + w * entry.rate) + w * entry.rate, `2 λ w = 2 × ${num(entry.rate, "rate")} × ${num(w, "w")}`];
    }
    if (entry.regularization === "L1" && entry.rate > 0) {
      return [0.0 + Math.sign(w) * entry.rate, `λ sign(w) = ${num(entry.rate, "rate")} × ${Math.sign(w)}`];
    }
    return null;
  }

  function weightHtml(entry, selection) {
    const { l, j, i } = selection;
    const isBias = i === T.sizes[l];
    const k = T.index[`${l}.${j}.${i}`];
    const name = paramName(selection);
    const what = isBias ? "b" : "w";
    const terms = [];
    for (let s = 0; s < entry.n; s++) {
      const sample = sampleAt(entry, s);
      const delta = sample.layer(l).dz(j);
      const a = isBias ? 1 : l === 0 ? sample.x(i) : sample.layer(l - 1).a(i);
      terms.push({ s, a, delta, product: a * delta });
    }
    const penalty = penaltyPart(entry, k);
    const from = isBias ? "" : ` · from ${inputLabel(l, i)} to ${neuronName(l, j)}`;
    let html = `<div class="inspector-head"><h3>${isBias ? "Bias" : "Weight"} <code>${name}</code>${from}</h3>
      <button type="button" id="close-inspector" title="close">×</button></div>`;
    html += `<p class="rule">Step ${entry.step}: the batch had ${entry.n} sample${entry.n > 1 ? "s" : ""}. For each, the chain rule gives
      ∂E/∂${what} = ${isBias ? "∂z/∂b × ∂E/∂z = 1 × δ" : "∂z/∂w × ∂E/∂z = a_in × δ"}, where δ = ∂E/∂z of ${neuronName(l, j)}${isBias ? "" : ` and a_in is ${inputLabel(l, i)}`}; the batch's gradient is their sum${penalty ? ", plus the penalty's" : ""}.</p>`;
    const shown = T.showSamples ? terms : terms.slice(0, 3);
    html += '<table class="terms"><thead><tr><th>sample</th><th>a_in</th><th></th><th>δ</th><th></th><th>a_in · δ</th></tr></thead><tbody>';
    for (const t of shown) {
      html += `<tr><td>${t.s + 1}</td><td>${num(t.a, "a")}</td><td>×</td><td>${num(t.delta, "delta")}</td><td>=</td><td>${num(t.product, "product")}</td></tr>`;
    }
    if (!T.showSamples && terms.length > 3) html += `<tr><td colspan="6" class="small">… ${terms.length - 3} more</td></tr>`;
    html += "</tbody></table>";
    if (terms.length > 3) html += `<button type="button" id="toggle-samples">${T.showSamples ? "show fewer" : "show each sample"}</button>`;
    html += `<p class="formula">∂E/∂${what} = Σ a_in · δ${penalty ? ` + ${penalty[1]}` : ""} = ${num(entry.grads[k], "grad")}</p>`;
    html += `<p class="small">The samples are added from the last to the first${penalty ? ", after the penalty's share" : ""}: the order the engine's backward pass meets them in, so every digit agrees with Python.</p>`;
    html += updateLine(entry, k, what);
    return html + walkHtml(entry);
  }

  function neuronHtml(entry, selection) {
    const { l, j } = selection;
    const s = Math.min(T.sample, entry.n - 1);
    const sample = sampleAt(entry, s);
    const here = sample.layer(l);
    const m = T.sizes[l];
    const isOutput = l === T.last;
    const activation = isOutput ? "linear" : cfg.activation;
    const k0 = T.index[`${l}.${j}.0`];
    const kb = T.index[`${l}.${j}.${m}`];
    let html = `<div class="inspector-head"><h3>Neuron <code>${neuronName(l, j)}</code> · ${activation}${isOutput ? " (the output)" : ""}</h3>
      <button type="button" id="close-inspector" title="close">×</button></div>`;
    html += `<p class="rule">Step ${entry.step}, sample <button type="button" id="previous-sample" title="previous sample">◀</button>
      <b id="sample-number">${s + 1}</b> of ${entry.n} <button type="button" id="next-sample" title="next sample">▶</button>
      at (${fmt(T.train[entry.batch[s]][0])}, ${fmt(T.train[entry.batch[s]][1])}), class ${T.train[entry.batch[s]][2] > 0 ? "+1" : "−1"}.</p>`;
    const inputs = [];
    for (let i = 0; i < m; i++) {
      const a = l === 0 ? sample.x(i) : sample.layer(l - 1).a(i);
      inputs.push(`${num(entry.before[k0 + i], "w")}·${num(a, "a-in")}`);
    }
    const shownInputs = inputs.length > 4 ? [...inputs.slice(0, 4), "…"] : inputs;
    html += `<p class="formula">z = b + Σ w·a_in = ${num(entry.before[kb], "b")} + ${shownInputs.join(" + ")} = ${num(here.z(j), "z")}</p>`;
    if (!isOutput && activation !== "linear") {
      html += `<p class="formula">a = ${activation}(z) = ${num(here.a(j), "a")}</p>`;
    }
    if (isOutput) {
      html += `<p class="formula">δ = ∂E/∂z from the loss (${cfg.loss}): ${LOSS_SLOPE[entry.loss]}; t = ${num(target(T.train[entry.batch[s]][2]), "t")}, n = ${entry.n}:
        δ = ${num(here.dz(j), "delta")}</p>`;
    } else {
      const next = sample.layer(l + 1);
      const terms = [];
      for (let q = 0; q < T.sizes[l + 2]; q++) {
        const w = entry.before[T.index[`${l + 1}.${q}.${j}`]];
        terms.push(`${num(w, "w-next")}·${num(next.dz(q), "delta-next")}`);
      }
      const shownTerms = terms.length > 4 ? [...terms.slice(0, 4), "…"] : terms;
      const [formula, slope] = ACTIVATION_SLOPE[activation];
      html += `<p class="formula">Σ w·δ_next = ${shownTerms.join(" + ")} = ${num(here.da(j), "blame")}
        <span class="small">(the weights out of this neuron times the δ of the neurons they feed: ∂E/∂a)</span></p>`;
      html += `<p class="formula">δ = σ′(z) · Σ w·δ_next = (${formula}) · Σ w·δ_next = ${num(slope(here.z(j), here.a(j)), "slope")} × ${num(here.da(j), "blame")} = ${num(here.dz(j), "delta")}</p>`;
    }
    html += `<p class="formula">∂E/∂b = Σ over the batch of δ = ${num(entry.grads[kb], "grad")} · b ← b − lr × ∂E/∂b = ${num(entry.after[kb], "after")}</p>`;
    return html + walkHtml(entry);
  }

  // --- the chain rule one multiplication at a time (the backward pass of one sample) --------

  // the multiplications of backward(), in its order: per layer from the output back, each
  // neuron's δ, then for each input ∂E/∂w and the share it sends back to ∂E/∂a_in
  function walkSteps() {
    const steps = [];
    for (let l = T.last; l >= 0; l--) {
      const n = T.sizes[l + 1];
      const order = [...Array(n).keys()];
      if (l > 0 && l < T.last) order.reverse(); // middle layers go from their last neuron
      for (const j of order) {
        steps.push({ kind: "delta", l, j });
        steps.push({ kind: "bias", l, j });
        for (let i = 0; i < T.sizes[l]; i++) {
          steps.push({ kind: "weight", l, j, i });
          if (l > 0) steps.push({ kind: "share", l, j, i });
        }
      }
    }
    return steps;
  }

  function walkHtml(entry) {
    if (!T.walk) {
      return '<p><button type="button" id="start-walk">Walk through backward(), one multiplication at a time</button></p>';
    }
    const s = Math.min(T.walk.s, entry.n - 1); // the last batch of an epoch may be smaller
    const at = T.walk.at;
    const steps = walkSteps();
    const step = steps[at];
    const sample = sampleAt(entry, s);
    const here = sample.layer(step.l);
    let line;
    if (step.kind === "delta") {
      if (step.l === T.last) {
        line = `∂E/∂z of ${neuronName(step.l, step.j)} = δ = ${num(here.dz(step.j), "walk")} (from the loss)`;
      } else {
        const [formula, slope] = ACTIVATION_SLOPE[cfg.activation];
        line = `∂E/∂z of ${neuronName(step.l, step.j)} = ∂a/∂z × ∂E/∂a = (${formula}) × ∂E/∂a = ${num(slope(here.z(step.j), here.a(step.j)), "slope")} × ${num(here.da(step.j), "blame")} = ${num(here.dz(step.j), "walk")}`;
      }
    } else if (step.kind === "bias") {
      line = `∂E/∂b of ${biasName(step.l, step.j)} = ∂z/∂b × ∂E/∂z = 1 × ${num(here.dz(step.j), "delta")} = ${num(here.dz(step.j), "walk")}`;
    } else {
      const a = step.l === 0 ? sample.x(step.i) : sample.layer(step.l - 1).a(step.i);
      const w = entry.before[T.index[`${step.l}.${step.j}.${step.i}`]];
      if (step.kind === "weight") {
        line = `∂E/∂w of ${weightName(step.l, step.j, step.i)} = ∂z/∂w × ∂E/∂z = a_in × δ = ${num(a, "a")} × ${num(here.dz(step.j), "delta")} = ${num(a * here.dz(step.j), "walk")}`;
      } else {
        line = `∂E/∂a of ${neuronName(step.l - 1, step.i)} += ∂z/∂a_in × ∂E/∂z = w × δ = ${num(w, "w")} × ${num(here.dz(step.j), "delta")} = ${num(w * here.dz(step.j), "walk")}
          <span class="small">(its sum ends at ${num(sample.layer(step.l - 1).da(step.i), "blame")})</span>`;
      }
    }
    return `<div class="walk"><p class="rule">backward() of sample
      <button type="button" id="walk-previous-sample" title="the previous sample's backward pass">◀</button>
      <b>${s + 1}</b> of ${entry.n}
      <button type="button" id="walk-next-sample" title="the next sample's backward pass">▶</button>
      · multiplication
      <button type="button" id="walk-previous" title="the previous multiplication">◀</button>
      <b id="walk-number">${at + 1}</b> of ${steps.length}
      <button type="button" id="walk-next" title="the next multiplication">▶</button>
      <button type="button" id="walk-stop" title="close the walk">×</button></p>
      <p class="formula" id="walk-line">${line}</p></div>`;
  }

  function wireWalk(box, entry) {
    const count = walkSteps().length;
    const go = (s, at) => { T.walk = { s: (s + entry.n) % entry.n, at: (at + count) % count }; inspect(); highlightWalk(); };
    box.querySelector("#start-walk")?.addEventListener("click", () => go(0, 0));
    box.querySelector("#walk-stop")?.addEventListener("click", () => { T.walk = null; inspect(); highlightWalk(); });
    box.querySelector("#walk-next")?.addEventListener("click", () => go(T.walk.s, T.walk.at + 1));
    box.querySelector("#walk-previous")?.addEventListener("click", () => go(T.walk.s, T.walk.at - 1));
    box.querySelector("#walk-next-sample")?.addEventListener("click", () => go(T.walk.s + 1, 0));
    box.querySelector("#walk-previous-sample")?.addEventListener("click", () => go(T.walk.s - 1, 0));
  }

  function highlightWalk() {
    document.querySelectorAll(".walking").forEach((el) => el.classList.remove("walking"));
    if (!T.walk) return;
    const step = walkSteps()[T.walk.at];
    if (step.kind === "delta" || step.kind === "bias") {
      NET.nodes[`${step.l}.${step.j}`]?.classList.add("walking");
    } else {
      const edge = NET.edges.find((e) => e.l === step.l && e.j === step.j && e.i === step.i);
      if (edge) edge.path.classList.add("walking");
    }
  }

  // --- controls ---------------------------------------------------------------------------

  function option(select, value, text) {
    const o = document.createElement("option");
    o.value = String(value);
    o.textContent = text;
    select.append(o);
  }

  function setUpControls() {
    for (const rate of CHOICES.learningRates) option(byId("learningRate"), rate, String(rate));
    for (const name of CHOICES.activations) option(byId("activation"), name, name);
    for (const [name, text] of Object.entries(CHOICES.lossNames)) option(byId("loss"), name, text);
    for (const name of CHOICES.regularizations) option(byId("regularization"), name, name);
    for (const rate of CHOICES.regularizationRates) option(byId("regularizationRate"), rate, String(rate));
    const datasets = document.querySelector(".datasets");
    for (const name of CHOICES.datasets) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "dataset";
      button.dataset.dataset = name;
      button.setAttribute("role", "radio");
      button.title = name;
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 44;
      button.append(canvas, document.createTextNode(name));
      button.addEventListener("click", () => change({ dataset: name }));
      datasets.append(button);
    }
    const live = { learningRate: Number, regularizationRate: Number, regularization: String, batchSize: Number };
    for (const [key, convert] of Object.entries(live)) {
      byId(key).addEventListener(key === "batchSize" ? "input" : "change", (event) => {
        change({ [key]: convert(event.target.value) }, false);
      });
    }
    for (const key of ["activation", "loss"]) {
      byId(key).addEventListener("change", (event) => change({ [key]: event.target.value }));
    }
    for (const key of ["noise", "points", "trainFraction"]) {
      byId(key).addEventListener("input", (event) => { byId(`${key}-value`).textContent = event.target.value; });
      byId(key).addEventListener("change", (event) => change({ [key]: Number(event.target.value) }));
    }
    byId("seed").addEventListener("change", (event) => {
      const seed = Number(event.target.value);
      if (Number.isInteger(seed) && seed >= 0) change({ seed });
      else event.target.value = String(cfg.seed);
    });
    byId("new-seed").addEventListener("click", () => change({ seed: (cfg.seed * 7919 + 1) % 100000 }));
    byId("play").addEventListener("click", () => (T.playing ? pause() : play()));
    byId("step").addEventListener("click", () => { pause(); train(1); render(); });
    byId("reset").addEventListener("click", () => reset());
    byId("add-layer").addEventListener("click", () => {
      if (cfg.layers.length < LIMITS.maxLayers) change({ layers: [...cfg.layers, cfg.layers[cfg.layers.length - 1] || 2] });
    });
    byId("remove-layer").addEventListener("click", () => {
      if (cfg.layers.length > 0) change({ layers: cfg.layers.slice(0, -1) });
    });
    byId("history").addEventListener("input", (event) => { pause(); goTo(Number(event.target.value)); });
    for (const radio of document.querySelectorAll("input[name=edges]")) radio.addEventListener("change", () => render());
    byId("show-test").addEventListener("change", () => render());
    byId("map").addEventListener("click", (event) => {
      const canvas = byId("map");
      const box = canvas.getBoundingClientRect();
      const px = (event.clientX - box.left) / box.width;
      const py = (event.clientY - box.top) / box.height;
      const { x, y } = T.domain;
      const label = Number(document.querySelector("input[name=adds]:checked").value);
      addPoint(x[0] + px * (x[1] - x[0]), y[1] - py * (y[1] - y[0]), label);
    });
    byId("save-model").addEventListener("click", saveModel);
    byId("open-model").addEventListener("change", (event) => {
      const file = event.target.files[0];
      if (!file) return;
      const reader = new FileReader();
      reader.onload = () => {
        try {
          openModel(JSON.parse(reader.result));
        } catch (error) {
          notice(`${file.name}: ${error.message}`);
        }
        event.target.value = "";
      };
      reader.readAsText(file);
    });
    document.addEventListener("keydown", (event) => {
      const tag = event.target.tagName;
      if (["INPUT", "SELECT", "BUTTON", "TEXTAREA"].includes(tag) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === " ") { event.preventDefault(); T.playing ? pause() : play(); }
      if (event.key === "ArrowRight") { event.preventDefault(); pause(); train(1); render(); }
    });
    let width = window.innerWidth;
    window.addEventListener("resize", () => {
      if (window.innerWidth === width) return;
      width = window.innerWidth;
      buildNetwork();
      render();
    });
  }

  function change(partial, resets = true) {
    try {
      const next = checkedConfig(partial, cfg);
      if (resets) reset(next);
      else { cfg = next; syncControls(); }
      notice("");
    } catch (error) {
      notice(error.message);
      syncControls();
    }
  }

  function toggleFeature(name) {
    if (cfg.hide.includes("features")) return;
    const on = cfg.features.includes(name);
    if (on && cfg.features.length === 1) { notice("the network needs at least one feature"); return; }
    change({ features: on ? cfg.features.filter((f) => f !== name) : [...cfg.features, name] });
  }

  function resize(l, delta) {
    const layers = cfg.layers.slice();
    layers[l] = Math.max(1, Math.min(LIMITS.maxNeurons, layers[l] + delta));
    if (layers[l] !== cfg.layers[l]) change({ layers });
  }

  function syncControls() {
    for (const key of ["learningRate", "activation", "loss", "regularization", "regularizationRate"]) {
      const select = byId(key);
      if (![...select.options].some((o) => o.value === String(cfg[key]))) option(select, cfg[key], String(cfg[key]));
      select.value = String(cfg[key]);
    }
    for (const key of ["batchSize", "noise", "points", "trainFraction"]) {
      byId(key).value = String(cfg[key]);
      byId(`${key}-value`).textContent = String(cfg[key]);
    }
    byId("seed").value = String(cfg.seed);
    byId("regularizationRate").disabled = cfg.regularization === "none";
    for (const button of document.querySelectorAll(".dataset")) {
      const on = button.dataset.dataset === cfg.dataset;
      button.classList.toggle("on", on);
      button.setAttribute("aria-checked", String(on));
      const canvas = button.querySelector("canvas");
      const { train, test, domain } = makeData({ ...cfg, dataset: button.dataset.dataset, points: 100, trainFraction: 0.5 });
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      for (const point of [...train, ...test]) {
        const px = (point[0] - domain.x[0]) / (domain.x[1] - domain.x[0]) * canvas.width;
        const py = (domain.y[1] - point[1]) / (domain.y[1] - domain.y[0]) * canvas.height;
        const c = point[2] > 0 ? COLOURS.positive : COLOURS.negative;
        context.fillStyle = `rgb(${c.join(",")})`;
        context.fillRect(px - 1, py - 1, 2.2, 2.2);
      }
    }
    applyHidden();
    writeUrl();
  }

  function applyHidden() {
    for (const el of document.querySelectorAll("[data-control]")) el.hidden = cfg.hide.includes(el.dataset.control);
    for (const node of document.querySelectorAll(".feature")) node.disabled = cfg.hide.includes("features");
  }

  function writeUrl() {
    const hash = `#${toQuery(cfg)}`;
    if (location.hash === hash) return;
    try {
      history.replaceState(null, "", hash);
    } catch (error) {
      location.replace(hash);
    }
  }

  function notice(text) {
    const box = byId("notice");
    box.textContent = text;
    box.hidden = !text;
  }

  // --- play and pause ---------------------------------------------------------------------

  function play() {
    if (T.playing) return;
    T.playing = true;
    T.walk = null;
    byId("play").textContent = "❚❚ Pause";
    const frame = () => {
      if (!T.playing) return;
      train(Number(byId("speed").value) || 1);
      render();
      T.timer = requestAnimationFrame(frame);
    };
    T.timer = requestAnimationFrame(frame);
  }

  function pause() {
    if (!T.playing) return;
    T.playing = false;
    cancelAnimationFrame(T.timer);
    byId("play").textContent = "▶ Play";
    render();
  }

  // --- the model as MLP.save writes it -----------------------------------------------------

  function modelJson() {
    const flat = readWeights();
    const layers = [];
    let k = 0;
    for (let l = 0; l <= T.last; l++) {
      const neurons = [];
      for (let j = 0; j < T.sizes[l + 1]; j++) {
        const w = [];
        for (let i = 0; i < T.sizes[l]; i++) w.push(flat[k++]);
        neurons.push({ w, b: flat[k++] });
      }
      layers.push(neurons);
    }
    return {
      format: DATA.save.format, version: DATA.save.version, nin: T.sizes[0], nouts: T.sizes.slice(1),
      activation: cfg.activation, output_activation: DATA.save.outputActivation, op_by_op: false, layers,
    };
  }

  function saveModel() {
    const blob = new Blob([JSON.stringify(modelJson(), null, 1) + "\n"], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "playground-model.json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // a model from MLP.save: its architecture becomes the page's, then its weights are put in
  function openModel(saved) {
    const problem = (text) => new TypeError(text);
    if (!saved || typeof saved !== "object" || saved.format !== DATA.save.format) throw problem(`not a model saved by MLP.save (format must be ${DATA.save.format})`);
    if (saved.version !== DATA.save.version) throw problem(`unsupported version ${JSON.stringify(saved.version)}`);
    const { nin, nouts, layers } = saved;
    if (!Number.isInteger(nin) || nin < 1 || nin > FEATURE_ORDER.length) throw problem(`the page has ${FEATURE_ORDER.length} features; this model reads ${nin} inputs`);
    if (!Array.isArray(nouts) || nouts[nouts.length - 1] !== 1) throw problem("the page draws one output; this model has " + JSON.stringify(nouts && nouts[nouts.length - 1]));
    if (saved.output_activation !== DATA.save.outputActivation) throw problem(`the page's output is ${DATA.save.outputActivation}; this model's is ${saved.output_activation}`);
    if (!CHOICES.activations.includes(saved.activation)) throw problem(`the page's activations are ${CHOICES.activations.join(", ")}; this model uses ${saved.activation}`);
    const features = cfg.features.length === nin ? cfg.features : FEATURE_ORDER.slice(0, nin);
    const next = checkedConfig({ layers: nouts.slice(0, -1), activation: saved.activation, features }, cfg);
    const flat = [];
    let fanIn = nin;
    if (!Array.isArray(layers) || layers.length !== nouts.length) throw problem("layers must have one entry per layer");
    layers.forEach((neurons, l) => {
      if (!Array.isArray(neurons) || neurons.length !== nouts[l]) throw problem(`layers[${l}] must have ${nouts[l]} neurons`);
      neurons.forEach((neuron, j) => {
        if (!neuron || !Array.isArray(neuron.w) || neuron.w.length !== fanIn) throw problem(`layers[${l}][${j}].w must have ${fanIn} weights`);
        for (const v of [...neuron.w, neuron.b]) if (!isNumber(v)) throw problem(`layers[${l}][${j}] holds ${JSON.stringify(v)}, not a finite number`);
        flat.push(...neuron.w, neuron.b);
      });
      fanIn = nouts[l];
    });
    reset(next);
    writeWeights(Float64Array.from(flat));
    const entry = current();
    entry.after = readWeights();
    entry.scores = evaluateAll();
    T.chart.train[0] = entry.scores.trainLoss;
    T.chart.test[0] = entry.scores.testLoss;
    notice(features === cfg.features ? "" : `opened a model of ${nin} inputs: the features are ${features.map((f) => FEATURE_LABELS[f]).join(", ")}`);
    render();
  }

  // --- the page's API, for tests and for the curious console -------------------------------

  function state() {
    const entry = current();
    const weights = {};
    const grads = {};
    const flat = readWeights();
    T.list.forEach((p, k) => {
      weights[p.name] = flat[k];
      if (entry.grads) grads[p.name] = entry.grads[k];
    });
    return { step: T.step, epoch: Math.max(0, T.epoch), ...entry.scores, weights, grads };
  }

  window.autogradLite = {
    step(n = 1) {
      if (!Number.isInteger(n) || n < 0) throw new TypeError(`autogradLite.step: n must be a whole number >= 0, got ${JSON.stringify(n)}`);
      pause();
      try {
        for (let k = 0; k < n; k++) trainStep();
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        train(1); // the same refusal, said on the page
        render();
        throw new Error(`autogradLite.step: step ${T.step + 1} was refused: ${error.message}`);
      }
      render();
      return state();
    },
    state,
    data: () => ({ train: T.train.map((p) => p.slice()), test: T.test.map((p) => p.slice()) }),
    config: () => JSON.parse(JSON.stringify(cfg)),
    load(partial) { // the settings given; the others keep their values
      const next = checkedConfig(partial, cfg);
      reset(next);
      return window.autogradLite.config();
    },
    play,
    pause,
    playing: () => Boolean(T.playing),
    addPoint(x1, x2, label) {
      if (!isNumber(x1) || !isNumber(x2) || (label !== 1 && label !== -1)) {
        throw new TypeError(`autogradLite.addPoint: expected two finite numbers and a label of 1 or -1, got ${JSON.stringify([x1, x2, label])}`);
      }
      addPoint(x1, x2, label);
    },
    rewind(steps) {
      pause();
      goTo(T.cursor - steps);
      return state();
    },
    select(name) {
      const at = T.list.findIndex((p) => p.name === name);
      if (at >= 0) { const p = T.list[at]; select({ kind: "weight", l: p.l, j: p.j, i: p.i }); return; }
      for (let l = 0; l <= T.last; l++) {
        for (let j = 0; j < T.sizes[l + 1]; j++) if (neuronName(l, j) === name) { select({ kind: "neuron", l, j }); return; }
      }
      throw new TypeError(`autogradLite.select: no weight, bias or neuron named ${JSON.stringify(name)}`);
    },
    code: (sizes, activation, loss) => (sizes ? compose(sizes, activation, loss) : T.code),
    model: modelJson,
    open: openModel,
    render,
  };

  // --- start: the configuration of the URL --------------------------------------------------

  setUpControls();
  const { cfg: start, problems } = fromQuery(location.hash);
  reset(start);
  if (problems.length) notice(`The link's settings were not all understood: ${problems.join("; ")}.`);
})();
