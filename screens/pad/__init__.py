"""The counter's rating pad (`kiosk pad --counter N`): 一次一评, facing the customer."""
