// Command hello prints "hello": the main package TestBuildBinary builds.
package main

import "fmt"

func main() { fmt.Println("hello") }
