values {
  a = 1
  inner {
  }
}
