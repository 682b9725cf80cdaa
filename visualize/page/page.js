/* The page replays what Python recorded with the engine: every number shown here is text
   written by visualize/step_page.py. This script does no arithmetic on gradients; it only picks
   the recorded state of a step and puts it on the picture. */
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const byId = (id) => document.getElementById(id);

  // Reset / Previous / Play / Next, the slider and the arrow keys, over positions 0..last.
  function player(last, render) {
    const slider = byId("slider");
    const playButton = byId("play");
    let position = 0;
    let timer = null;
    slider.max = String(last);

    function go(target) {
      position = Math.max(0, Math.min(last, target));
      slider.value = String(position);
      byId("previous").disabled = position === 0;
      byId("next").disabled = position === last;
      render(position);
    }
    function pause() {
      clearInterval(timer);
      timer = null;
      playButton.textContent = "▶ Play";
    }
    function play() {
      if (position === last) go(0);
      const perSecond = Number(byId("speed").value) || 3;
      timer = setInterval(() => {
        go(position + 1);
        if (position >= last) pause(); // stop at the end, ready to play again from the start
      }, 1000 / perSecond);
      playButton.textContent = "❚❚ Pause";
    }
    const toggle = () => (timer ? pause() : play());

    byId("next").addEventListener("click", () => { pause(); go(position + 1); });
    byId("previous").addEventListener("click", () => { pause(); go(position - 1); });
    byId("reset").addEventListener("click", () => { pause(); go(0); });
    playButton.addEventListener("click", toggle);
    slider.addEventListener("input", () => { pause(); go(Number(slider.value)); });
    byId("speed").addEventListener("change", () => { if (timer) { pause(); play(); } });
    document.addEventListener("keydown", (event) => {
      const tag = event.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || event.altKey || event.ctrlKey || event.metaKey) {
        return; // the slider and the speed menu handle their own keys
      }
      if (tag === "BUTTON" && (event.key === " " || event.key === "Enter")) return;
      const actions = {
        ArrowRight: () => { pause(); go(position + 1); },
        ArrowLeft: () => { pause(); go(position - 1); },
        " ": toggle,
        Home: () => { pause(); go(0); },
        End: () => { pause(); go(last); },
      };
      if (actions[event.key]) {
        event.preventDefault();
        actions[event.key]();
      }
    });
    go(0);
    return { go };
  }

  // Puts `value` between the unchanging text around it, in an element marked by html.py.
  function setText(element, value) {
    if (element) element.textContent = (element.dataset.prefix || "") + value + (element.dataset.suffix || "");
  }

  // Keeps picture elements (the two nodes of a step) visible inside their scrolling pane:
  // when they are not all in view, scrolls so that they sit in its middle.
  function reveal(elements, pane) {
    const shown = elements.filter(Boolean);
    if (!shown.length || !pane) return;
    const boxes = shown.map((element) => element.getBoundingClientRect());
    const box = { left: Math.min(...boxes.map((b) => b.left)), right: Math.max(...boxes.map((b) => b.right)),
                  top: Math.min(...boxes.map((b) => b.top)), bottom: Math.max(...boxes.map((b) => b.bottom)) };
    const view = pane.getBoundingClientRect();
    const inside = box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom;
    if (inside) return;
    pane.scrollBy((box.left + box.right - view.left - view.right) / 2,
                  (box.top + box.bottom - view.top - view.bottom) / 2);
  }

  // Graphviz writes text at 10 pt: at this zoom it is 11 px high or more, readable on any screen.
  const READABLE_ZOOM = 0.82;

  // Zoom buttons of a picture pane; returns `follow(position)`, which the page calls at each
  // step. Until the learner zooms, the zoom follows the steps: the start shows the whole
  // picture (every node, the error E at the right too, inside the pane); once stepping, a
  // picture too large to read whole is shown at a readable size, scrolled to follow the
  // steps ("fit" shows it whole again, "Aa" readable).
  function zoomable(pane) {
    const svg = pane.querySelector("svg");
    if (!svg) { // the table shown without Graphviz needs no zoom
      pane.parentElement.querySelector(".zoom").style.display = "none";
      return () => {};
    }
    const naturalWidth = svg.viewBox.baseVal.width * 4 / 3; // Graphviz sizes in points
    const naturalHeight = svg.viewBox.baseVal.height * 4 / 3;
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    let zoom = 1;
    let automatic = true; // false once the learner picks a zoom
    let shownWhole = true; // what the automatic zoom shows: the whole picture, or readable
    const apply = (value) => {
      zoom = Math.max(0.1, Math.min(6, value));
      svg.style.width = `${naturalWidth * zoom}px`;
    };
    const room = () => {
      const style = getComputedStyle(pane);
      const across = pane.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const down = pane.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      return { across: across - 4, down: down - 4 }; // a little slack: no scroll bar for rounding
    };
    const wholeZoom = () => Math.min(room().across / naturalWidth, room().down / naturalHeight, 1.6);
    const readableZoom = () => Math.min(Math.max(room().across / naturalWidth, READABLE_ZOOM), 1.6);
    const fit = () => apply(wholeZoom());
    const readable = () => apply(readableZoom());
    const chosen = (choice) => () => { automatic = false; choice(); };
    byId("zoom-in").addEventListener("click", chosen(() => apply(zoom * 1.25)));
    byId("zoom-out").addEventListener("click", chosen(() => apply(zoom / 1.25)));
    byId("zoom-fit").addEventListener("click", chosen(fit));
    byId("zoom-readable").addEventListener("click", chosen(readable));
    const automaticZoom = () => {
      if (!automatic) return;
      // stepping, the whole picture stays when its text is readable whole
      if (shownWhole || wholeZoom() >= READABLE_ZOOM) fit();
      else readable();
    };
    window.addEventListener("resize", automaticZoom);
    return (position) => {
      shownWhole = position === 0;
      automaticZoom();
    };
  }

  // --- the step-by-step page ---------------------------------------------------------------
  function graphPage() {
    const nodes = data.nodes;
    const forward = data.forward;
    const backward = data.backward;
    const seed = data.seed;
    const backwardStart = forward.length + 1; // position of the seed
    const last = backwardStart + backward.length;
    const pane = byId("picture");
    const parts = nodes.map((node) => {
      const element = node.id && byId(node.id);
      if (!element) return null;
      const find = (selector) => element.querySelector(selector);
      return { element, data: find(".data"), grad: find(".grad"), params: find(".params"),
               shape: find(".shape"), title: find("title") };
    });
    const edges = Array.from(document.querySelectorAll("#picture g.edge"));
    let shown = null; // the state on screen, for the tooltips

    // The recorded state after `position` moves: replays the steps before it.
    function stateAt(position) {
      const computed = nodes.map((node) => node.leaf);
      forward.slice(0, Math.min(position, forward.length)).forEach((step) => { computed[step.node] = true; });
      const grads = nodes.map(() => data.zero);
      const params = nodes.map(() => data.zero);
      const fills = nodes.map(() => "");
      const flows = {};
      if (position >= backwardStart) {
        grads[seed.node] = seed.grad;
        fills[seed.node] = seed.fill;
      }
      backward.slice(0, Math.max(0, position - backwardStart)).forEach((step) => {
        grads[step.input] = step.grad;
        fills[step.input] = step.fill;
        flows[step.edge] = step.flow;
        if (step.params !== undefined) params[step.node] = step.params;
      });
      return { computed, grads, params, fills, flows };
    }

    // What the step at `position` is: the sentence, who sends, who receives, which edges.
    function stepAt(position) {
      if (position === 0) {
        return { phase: "start", text: "Start: only the leaves (inputs, weights, biases) have values.",
                 sending: [], receiving: null, edges: [] };
      }
      if (position < backwardStart) {
        const step = forward[position - 1];
        return { phase: "forward", text: step.text, sending: step.inputs, receiving: step.node,
                 edges: step.edges, count: `node ${position} of ${forward.length}` };
      }
      if (position === backwardStart) {
        return { phase: "backward", text: seed.text, sending: [], receiving: seed.node, edges: [],
                 count: "seed" };
      }
      const number = position - backwardStart;
      const step = backward[number - 1];
      return { phase: "backward", text: step.text, sending: [step.node], receiving: step.input,
               edges: step.edge ? [step.edge] : [], count: `chain-rule step ${number} of ${backward.length}`,
               step };
    }

    function explain(position, at) {
      const name = (i) => nodes[i].name;
      if (position === 0) {
        return "Press Next to compute the forward pass one node at a time, left to right.";
      }
      if (at.phase === "forward") {
        return `${name(at.receiving)} is computed from its inputs. Its local derivatives are worked out now and kept for the backward pass.`;
      }
      if (!at.step) {
        return `Forward pass done: E = ${nodes[seed.node].data}. Now the blame flows back from E to every input.`;
      }
      const step = at.step;
      const d = (i) => nodes[i].after_d;
      let text = `The gradient of ${name(step.node)} (upstream) times the local derivative ∂${d(step.node)}/∂${d(step.input)} is added to ${name(step.input)}.grad.`;
      if (!parts[step.input] && parts[step.node]) {
        text += ` ${name(step.input)} is not drawn on its own: it is folded into the box of ${name(step.node)}, whose parameters row sums up their gradients.`;
      }
      if (position === last) text += " Done: every grad now equals what backward() leaves.";
      return text;
    }

    function showFormula(text) {
      const formula = byId("formula");
      const [main, ...rest] = text.split("\n");
      formula.textContent = main;
      if (rest.length) {
        const local = document.createElement("span");
        local.className = "local";
        local.textContent = rest.join("\n");
        formula.appendChild(local);
      }
    }

    function render(position) {
      const state = stateAt(position);
      const at = stepAt(position);
      shown = state;
      parts.forEach((part, i) => {
        if (!part) return;
        setText(part.data, state.computed[i] ? nodes[i].data : "?");
        setText(part.grad, state.grads[i]);
        setText(part.params, state.params[i]);
        if (part.shape) part.shape.style.fill = state.fills[i];
        else part.element.style.background = state.fills[i];
        const classes = part.element.classList;
        classes.toggle("pending", !state.computed[i]);
        classes.toggle("sending", at.sending.includes(i));
        classes.toggle("receiving", at.receiving === i);
        classes.toggle("computing", at.receiving === i && at.phase === "forward");
      });
      edges.forEach((edge) => {
        const flow = state.flows[edge.id];
        let classes = "edge" + (flow ? ` flow-${flow}` : "");
        if (at.edges.includes(edge.id)) classes += at.phase === "forward" ? " current forward" : " current";
        edge.setAttribute("class", classes);
      });

      byId("phase-forward").classList.toggle("active", at.phase === "forward" || at.phase === "start");
      byId("phase-backward").classList.toggle("active", at.phase === "backward");
      byId("where").textContent = { start: "Start", forward: "Forward pass", backward: "Backward pass" }[at.phase];
      byId("counter").textContent = at.count ? `· ${at.count}` : "";
      showFormula(at.text);
      byId("explain").textContent = explain(position, at);
      const history = byId("history");
      history.replaceChildren();
      for (let earlier = position - 1; earlier >= Math.max(1, position - 8); earlier--) {
        const item = document.createElement("li");
        item.textContent = stepAt(earlier).text.split("\n")[0];
        history.appendChild(item);
      }
      const element = (i) => (i !== null && parts[i] ? parts[i].element : null);
      follow(position);
      reveal([element(at.receiving), ...at.sending.map(element)], pane);
    }

    pane.addEventListener("mouseover", (event) => {
      const group = event.target.closest && event.target.closest("g.node");
      const i = group ? nodes.findIndex((node) => node.id === group.id) : -1;
      if (i < 0 || !shown || !parts[i].title) return;
      const value = shown.computed[i] ? nodes[i].data : "not computed yet";
      parts[i].title.textContent = `${nodes[i].name}: data ${value}, grad ${shown.grads[i]}`;
    });
    const follow = zoomable(pane);
    const controls = player(last, render);
    byId("phase-forward").addEventListener("click", () => controls.go(0));
    byId("phase-backward").addEventListener("click", () => controls.go(backwardStart));
  }

  // --- export_html(explanation=...), `step --html --explain`: the text in a panel that
  // opens on demand, below the controls (before the growing list of previous steps)
  function explanationPanel(text) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const body = document.createElement("pre");
    details.id = "explanation";
    details.style.marginTop = "12px";
    summary.textContent = "Each gradient as a chain of local derivatives";
    body.className = "formula";
    // its lines are laid out (aligned "= ..." rows): scroll sideways rather than wrap them
    Object.assign(body.style, { fontSize: "12px", whiteSpace: "pre", overflowX: "auto" });
    body.textContent = text;
    details.append(summary, body);
    document.querySelector(".slider-row").after(details);
  }

  if (document.body.classList.contains("training")) trainingPage();
  else {
    graphPage();
    if (data.explanation) explanationPanel(data.explanation);
  }

  // --- the training page: a slider over epochs -------------------------------------------
  function trainingPage() {
    const epochs = data.epochs;
    const rows = data.parameters.map((parameter) => {
      const row = byId(`row-${parameter.label}`);
      const cell = (name) => row.querySelector(`.${name}`);
      return { weight: cell("weight"), weightBar: cell("weight-bar"), grad: cell("grad"),
               gradBar: cell("grad-bar"), after: cell("after"), edge: byId(parameter.label) };
    });
    const outputs = data.samples.map((_, i) => byId(`output-${i}`));
    const marker = byId("loss-marker");
    const cursor = byId("loss-cursor");

    function bar(element, width, sign) {
      element.style.width = `${width}%`;
      element.className = sign === "neg" ? "neg" : "";
    }

    function render(position) {
      const epoch = epochs[position];
      byId("epoch-number").textContent = String(position);
      byId("epoch-loss").textContent = epoch.loss;
      byId("epoch-accuracy").textContent = epoch.accuracy ? ` · accuracy ${epoch.accuracy}` : "";
      rows.forEach((row, i) => {
        const [weight, weightWidth, weightSign] = epoch.weights[i];
        row.weight.textContent = weight;
        bar(row.weightBar, weightWidth, weightSign);
        const [grad, gradWidth, gradSign] = epoch.grads ? epoch.grads[i] : ["—", 0, ""];
        row.grad.textContent = grad;
        bar(row.gradBar, gradWidth, gradSign);
        row.after.textContent = position + 1 < epochs.length ? epochs[position + 1].weights[i][0] : "—";
        if (row.edge) {
          const [colour, width] = epoch.edges[i];
          row.edge.querySelectorAll("path").forEach((path) => {
            path.setAttribute("stroke", colour);
            path.setAttribute("stroke-width", width);
          });
          row.edge.querySelectorAll("polygon").forEach((arrow) => {
            arrow.setAttribute("stroke", colour);
            arrow.setAttribute("fill", colour);
          });
        }
      });
      outputs.forEach((cell, i) => { cell.textContent = epoch.outputs[i]; });
      marker.setAttribute("cx", epoch.point[0]);
      marker.setAttribute("cy", epoch.point[1]);
      cursor.setAttribute("x1", epoch.point[0]);
      cursor.setAttribute("x2", epoch.point[0]);
    }

    player(epochs.length - 1, render);
  }
})();
