values {
  a = upper("a", "b")
}
