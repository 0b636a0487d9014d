// Authorizes each request with an HTTP callout to `auth`, carrying its `authorization`
// header: the request pauses until the answer; 200 resumes it, anything else gets a 403.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, FilterHeadersStatusValues,
  stream_context, Headers, HeaderPair, send_local_response, continue_request, WasmResultValues,
} from "@solo-io/proxy-runtime";

class AuthRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Auth(context_id, this);
  }
}

function pair(key: string, value: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(key), String.UTF8.encode(value));
}

class Auth extends Context {
  constructor(context_id: u32, root_context: AuthRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const call: Headers = [];
    call.push(pair(":method", "GET"));
    call.push(pair(":path", "/check"));
    call.push(pair(":authority", "auth"));
    call.push(pair("authorization", stream_context.headers.request.get("authorization")));
    const result = this.root_context.httpCall("auth", call, new ArrayBuffer(0), [], 1000, this,
      (origin: Context, headers: u32, body_size: usize, trailers: u32): void => {
        if (stream_context.headers.http_callback.get(":status") == "200") {
          continue_request();
        } else {
          send_local_response(403, "denied", String.UTF8.encode("forbidden"), [], 16);
        }
      });
    if (result != WasmResultValues.Ok) {
      send_local_response(503, "", String.UTF8.encode("auth unavailable"), [], 14);
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => { return new AuthRoot(context_id); }, "");
