// wasi_shim.js: the WASI preview1 imports of the reactor (mnemo-reactor.wasm),
// for hosts that have no WASI of their own (workerd, a browser). Exactly the
// calls the module imports, listed in wasi/README.md; instantiation fails
// loudly if the module ever asks for another one.
//
//   clock_time_get  Date.now() (realtime) or performance.now() (monotonic)
//   random_get      crypto.getRandomValues
//   fd_write        fd 1 and 2 to the console, line by line (the core never
//                   writes there; SQLite's error log might)
//   fd_close, fd_seek
//                   linked in by wasi-libc's stdio; no file is ever open, so
//                   they answer EBADF / ESPIPE
//
// `getMemory` returns the instance's memory: it is read on every call, since
// a grown memory has a new buffer.

const ESUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ESPIPE = 70;

export function wasiImports(getMemory, log = (fd, line) => (fd === 2 ? console.error : console.log)(line)) {
  const pending = { 1: '', 2: '' };
  const dec = { 1: new TextDecoder(), 2: new TextDecoder() };
  const view = () => new DataView(getMemory().buffer);
  return {
    clock_time_get(id, precision, out) {
      // 0 realtime, 1 monotonic; the process/thread CPU clocks are not offered.
      let ns;
      if (id === 0) ns = BigInt(Date.now()) * 1000000n;
      else if (id === 1) ns = BigInt(Math.round(performance.now() * 1e6));
      else return EINVAL;
      view().setBigUint64(out, ns, true);
      return ESUCCESS;
    },
    random_get(ptr, len) {
      const mem = new Uint8Array(getMemory().buffer, ptr, len);
      // getRandomValues fills at most 64 KiB per call.
      for (let i = 0; i < len; i += 65536) crypto.getRandomValues(mem.subarray(i, Math.min(len, i + 65536)));
      return ESUCCESS;
    },
    fd_write(fd, iovs, iovsLen, nwritten) {
      if (fd !== 1 && fd !== 2) return EBADF;
      const dv = view();
      const mem = new Uint8Array(getMemory().buffer);
      let n = 0;
      for (let i = 0; i < iovsLen; i++) {
        const p = dv.getUint32(iovs + 8 * i, true);
        const len = dv.getUint32(iovs + 8 * i + 4, true);
        pending[fd] += dec[fd].decode(mem.subarray(p, p + len), { stream: true });
        n += len;
      }
      let nl;
      while ((nl = pending[fd].indexOf('\n')) >= 0) {
        log(fd, pending[fd].slice(0, nl));
        pending[fd] = pending[fd].slice(nl + 1);
      }
      dv.setUint32(nwritten, n, true);
      return ESUCCESS;
    },
    fd_close() {
      return EBADF;
    },
    fd_seek() {
      return ESPIPE;
    },
  };
}
