;; Row 10, how bodies arrive. Envoy: each chunk with the real end of stream, also on headers;
;; nginx: headers never end the stream, the request body whole in one call, the response body
;; per chunk and then an empty last call.
(module
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0)))
