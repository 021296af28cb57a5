public enum RedisManage {
    public static let version = "0.1.0"
}
