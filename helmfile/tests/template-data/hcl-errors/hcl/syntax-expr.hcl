values {
  a = 1 +
}
