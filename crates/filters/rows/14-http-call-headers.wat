;; Row 14, an HTTP callout without :authority. Envoy refuses it (BAD_ARGUMENT); nginx makes
;; it with :authority set to the upstream, token 0, and pauses and resumes the stream itself.
(module
  (import "env" "proxy_http_call"
    (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $http_call (i32.const 16) (i32.const 7) (i32.const 32) (i32.const 41)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 1024)))
    (i32.const 0))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32))
  (data (i32.const 16) "backend")
  ;; {":method": "GET", ":path": "/x"}, serialized.
  (data (i32.const 32) "\02\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\02\00\00\00"
    ":method\00GET\00:path\00/x\00"))
