"""What each kind of run does, composed across domains, and runs started outside HTTP."""
