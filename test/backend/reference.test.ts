/** The conformance suite on the TypeScript reference backend, which is also its own oracle. */
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { runKernelSuite } from './kernel-suite.js';

const reference = createReferenceBackend();

runKernelSuite({ name: 'reference', backend: reference, oracle: reference, skip: {} });
