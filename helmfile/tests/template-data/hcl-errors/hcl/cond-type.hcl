values {
  a = "yes" ? 1 : 2
}
