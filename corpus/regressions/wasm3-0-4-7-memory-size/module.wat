(module
  (type (;0;) (func))
  (memory (;0;) 0 9)
  (export "" (func 0))
  (func (;0;) (type 0)
    memory.size
    memory.size
    i32.store16
  )
)
