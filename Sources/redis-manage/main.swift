import RedisAutopilot

print("redis-manage: not implemented yet")
