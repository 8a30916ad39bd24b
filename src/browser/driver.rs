//! WebDriver driver processes (placeholder; being written).
