/**
 * Poll instead of sleeping: `await waitFor(() => condition, { timeoutMs, what })`.
 * The implementation is shared with `npm run services`, which waits for dockerd the same way.
 */
export { type Truthy, type WaitForOptions, waitFor } from '../../scripts/services/lib/poll.js';
