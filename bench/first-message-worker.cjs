// The raw start reference: a worker whose first act is to say it is there. CommonJS, the
// fastest file a worker can start from (an ES module adds the ESM loader, ~4 ms here).
require('node:worker_threads').parentPort.postMessage('ready');
