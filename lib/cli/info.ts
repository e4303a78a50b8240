/**
 * `hdglue info [MODEL.hdg]`: the backend in use, and a saved model's members (with the ONNX file
 * each network member was fitted from, as the model records it), classes and sizes.
 */
import { statSync } from 'node:fs';
import { backendInfo } from '../backend/info.js';
import { loadModel } from './model.js';
import { CV_CAVEAT, type Out } from './util.js';

const TUTORIAL_DESCRIPTION =
  "the tutorial's algebra as written: random-level bins, one bundled HIL vector per member, network-bound consensus";

/** Run `hdglue info`. */
export function infoCommand(model: string | undefined, f: { json?: boolean }, out: Out): void {
  const backend = backendInfo();
  if (!model) {
    if (f.json) out.log(JSON.stringify(backend, null, 2));
    else for (const [k, v] of Object.entries(backend)) out.log(`${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
    return;
  }
  const glue = loadModel(model);
  const members = glue.members().map((name) => {
    const m = glue.member(name);
    const source = glue.onnxSources?.[name];
    const enc = m.encoder.toJSON() as unknown as Record<string, unknown>;
    return {
      name,
      weight: m.weight,
      encoder: String(enc.kind).replace(/^hdglue\./, ''),
      features: m.encoder.features,
      dim: m.encoder.dim,
      ...(typeof enc.bins === 'number' ? { bins: enc.bins } : {}),
      ...(typeof enc.levels === 'string' ? { levels: enc.levels } : {}),
      classes: m.hil.classes,
      examples: m.hil.counts.reduce((a, b) => a + b, 0),
      // Counters, plus the nearest readout's stored rows and their class indices.
      bytes: m.hil.classes * m.hil.dim * 4 + m.hil.stored * (8 * Math.ceil(m.hil.dim / 64) + 4),
      // The record as stored: the file is not opened (info needs no onnxruntime).
      ...(source ? { source } : {}),
    };
  });
  const classes = glue.labels();
  const info = {
    model,
    bytes: statSync(model).size,
    consensus: glue.consensus,
    classes,
    members,
    backend: `${backend.backend}/${backend.isa}`,
    ...(glue.recipe ? { recipe: glue.recipe } : {}),
    ...(glue.tuning
      ? { tuning: { folds: glue.tuning.folds, cv: glue.tuning.cv, recipe: glue.tuning.recipe, caveat: CV_CAVEAT } }
      : {}),
  };
  if (f.json) {
    out.log(JSON.stringify(info, null, 2));
    return;
  }
  out.log(
    `${model}: ${info.bytes} bytes, ${members.length} member(s), ${classes.length} classes, ${info.consensus} consensus`,
  );
  // Models written before the recipe was recorded say nothing here rather than a guess.
  if (glue.recipe === 'tutorial') out.log(`recipe: tutorial (${TUTORIAL_DESCRIPTION})`);
  else if (glue.recipe) out.log(`recipe: ${glue.recipe}`);
  const shown = classes.slice(0, 20).map((c) => JSON.stringify(c));
  out.log(`classes: ${shown.join(', ')}${classes.length > 20 ? `, ... (${classes.length - 20} more)` : ''}`);
  for (const m of members) {
    const enc = [
      m.encoder,
      `${m.features} features`,
      `D = ${m.dim}`,
      m.bins ? `${m.bins} bins` : '',
      m.levels ? `${m.levels} levels` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.log(
      `  ${m.name}: weight ${m.weight}, ${enc}; HIL ${m.classes} classes from ${m.examples} examples (${m.bytes} bytes)`,
    );
    const s = m.source;
    if (s) {
      out.log(
        `    network: ${s.path} (sha256 ${s.sha256.slice(0, 12)}), input ${JSON.stringify(s.input.name)} [${s.input.shape.join(', ')}], output ${JSON.stringify(s.output)}`,
      );
    }
  }
  const joint = glue.joint;
  if (joint)
    out.log(
      `  joint (concat) layer over ${joint.names.join(' + ')}: D = ${joint.hil.dim}, ${joint.hil.classes} classes`,
    );
  if (glue.tuning) {
    const t = glue.tuning;
    out.log(
      `chosen by ${t.folds}-fold CV over ${t.scores.length} settings (mean accuracy ${(100 * t.cv).toFixed(2)} %): ${JSON.stringify(t.recipe)}`,
    );
    out.log(`  ${CV_CAVEAT}`);
  }
  out.log(`backend: ${info.backend}`);
}
