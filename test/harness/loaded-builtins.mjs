// Preloaded into a node process by tests (--import <this file>): writes the
// built-in modules the process has loaded (process.moduleLoadList's
// "NativeModule" entries), one per line, to the file SPICEAI_TEST_LOADED_BUILTINS
// names, on SIGUSR2 and at exit. It imports nothing itself (an ESM import of a
// built-in would load what its exports' getters load).
const out = process.env.SPICEAI_TEST_LOADED_BUILTINS;
if (!out) throw new Error('loaded-builtins.mjs: SPICEAI_TEST_LOADED_BUILTINS names no file');
const fs = process.getBuiltinModule('node:fs');
const write = () => {
  const ids = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  fs.writeFileSync(`${out}.tmp`, `${ids.join('\n')}\n`);
  fs.renameSync(`${out}.tmp`, out);
};
process.on('SIGUSR2', write);
process.on('exit', write);
