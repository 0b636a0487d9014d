(module
  (type (;0;) (func (result i32)))
  (export "f" (func 0))
  (func (;0;) (type 0) (result i32)
    loop (result f32) ;; label = @1
      f32.const 0x1p+1 (;=2;)
      i32.const 1
      br 1
    end
    unreachable
  )
)
