// The user apps are plain static files (any host can serve them): rendered in the browser only,
// built once at build time. They talk to the functions with the client library.
export const ssr = false
export const prerender = true
