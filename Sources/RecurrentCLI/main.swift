print("recurrent")
