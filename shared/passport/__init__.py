"""lambda-passport: an OAuth 2.0 authorization server for AWS Lambda, API Gateway and DynamoDB."""

__version__ = "0.1.0"
