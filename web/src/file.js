// placeholder, replaced below
export function fileBackend() { throw new Error('not yet'); }
