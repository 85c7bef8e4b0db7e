// A fetch handler (Workers style): gets a standard Request, returns a Response.
//   curl -X PUT localhost:8080/v1/functions/echo-http --data-binary @functions/echo-http.ts
//   curl -i localhost:8080/fn/echo-http/some/path?x=1 -d 'hello'
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    return Response.json(
      { method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body },
      { headers: { 'x-powered-by': 'wisp' } },
    );
  },
};
