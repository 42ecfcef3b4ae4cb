"""boto3 adapters. Logic never imports boto3; it calls these."""
