print("verk-demo: coming with the supervisor")
