(module
  (type (;0;) (func))
  (global (;0;) (mut i32) i32.const 2)
  (start 0)
  (func (;0;) (type 0)
    (local f64 i32)
    global.get 0
    i32.eqz
    if ;; label = @1
      unreachable
    end
    i32.const 0
    i32.const 1
    local.get 1
    local.get 1
    i32.eqz
    select
    i32.rem_u
    drop
  )
)
