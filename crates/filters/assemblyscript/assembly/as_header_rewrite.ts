// Adds `x-as-filter` (the plugin configuration, or "yes") to every request and
// `x-served-by: assemblyscript` to every response. SDK 0.1.8's onConfigure passes the
// configuration's size where the size's out-pointer goes, so the configuration always reads ""
// and the header is "yes": the filter shows what the SDK does.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@solo-io/proxy-runtime";

class HeaderRewriteRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new HeaderRewrite(context_id, this);
  }
}

class HeaderRewrite extends Context {
  constructor(context_id: u32, root_context: HeaderRewriteRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const configuration = this.root_context.getConfiguration();
    stream_context.headers.request.add("x-as-filter", configuration == "" ? "yes" : configuration);
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-served-by", "assemblyscript");
    return FilterHeadersStatusValues.Continue;
  }
}

// Envoy's default root id is "".
registerRootContext((context_id: u32) => { return new HeaderRewriteRoot(context_id); }, "");
