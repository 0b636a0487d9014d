(module
  (type (;0;) (func (param i32 i64)))
  (memory (;0;) 1 1)
  (global (;0;) (mut i32) i32.const 0)
  (export "" (func 0))
  (func (;0;) (type 0) (param i32 i64)
    global.get 0
    if ;; label = @1
      unreachable
    end
    memory.size
    local.set 0
    local.get 0
    local.get 0
    i32.store16 offset=65536 align=1
  )
)
