"""Running a device: configuration, logs, the institute file, doctor, serve."""
