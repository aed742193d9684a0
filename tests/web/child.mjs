// A second process for file.node.test.mjs: opens a file bank and runs one
// command, printing JSON. `crash` makes the process kill itself (SIGKILL, no
// cleanup) at a chosen point of its commit, as a power cut would.
import { pkgUrl } from './helpers.mjs';

const { Mnemo } = await import(pkgUrl('src/index.node.js'));
const [cmd, file, arg, crash] = process.argv.slice(2);
const die = () => process.kill(process.pid, 'SIGKILL');
const testHooks = {
  duringRedo: crash === 'redo' ? die : undefined,
  afterRedo: crash === 'after-redo' ? die : undefined,
  duringApply: crash === 'apply' ? (i) => { if (i >= 1) die(); } : undefined,
};
const bank = await Mnemo.open({ bank: 'child', storage: file, storageOptions: { testHooks } });
let out;
if (cmd === 'retain') out = await bank.retain(arg);
else if (cmd === 'retain-many') {
  for (let i = 0; i < Number(arg); i++) await bank.retain(`from ${process.pid} number ${i}`);
  out = { ok: true };
} else if (cmd === 'texts') out = (await bank.list({ limit: 1000 })).memories.map((m) => m.text);
await bank.close();
process.stdout.write(JSON.stringify(out));
