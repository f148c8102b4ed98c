values {
  fromEnv = "env"
  count = 2.5
}
