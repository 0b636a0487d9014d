;; Row 11, Pause on response headers. Envoy holds the stream (it stalls, nobody resumes it);
;; nginx ignores it and the response goes through.
(module
  (memory (export "memory") 1)
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 1)))
