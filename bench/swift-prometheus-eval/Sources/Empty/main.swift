// The floor: a static Swift binary that does nothing.
print("", terminator: "")
