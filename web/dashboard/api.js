// api.js - the REST API: JSON in and out, the CSRF token on every change, errors as ApiError.
// A FormData body goes as multipart/form-data (uploads).
// The newest event id any answer carried is kept, so the live connection resumes from it.

let csrf = null;
let onSignedOut = () => {};
export let lastEventId = 0;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrf(token) { csrf = token; }
export function whenSignedOut(fn) { onSignedOut = fn; }

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const form = typeof FormData !== 'undefined' && body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(path, { method, headers, credentials: 'same-origin',
                            body: body === undefined ? undefined : form ? body : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection.');
  }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const err = (data && data.error) || {};
    if (r.status === 401 && path !== '/api/login') onSignedOut();
    throw new ApiError(r.status, err.code || 'error', err.message || `HTTP ${r.status}`);
  }
  if (data && typeof data.event_id === 'number' && data.event_id > lastEventId)
    lastEventId = data.event_id;
  return data;
}
